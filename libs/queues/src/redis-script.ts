import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-connection';

/** A Lua script run by SHA (EVALSHA), loaded on first use and again after a server restart (NOSCRIPT). */
export class RedisScript {
  /**
   * Every script defined in the loaded modules: the cluster test runs each against a Redis
   * Cluster and checks it ran on the one node serving Herald's slot (no CROSSSLOT possible).
   */
  static readonly defined = new Set<RedisScript>();

  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
    RedisScript.defined.add(this);
  }

  async run(
    redis: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/**
 * Whether an error means Redis could not be reached (disconnected, offline queue off, timeout)
 * rather than that it answered with an error. Only the former justifies a fallback.
 */
export function isRedisUnavailable(error: unknown): boolean {
  return error instanceof Error && error.name !== 'ReplyError';
}
