import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisOptions as BullRedisOptions } from 'bullmq';
import type { HeraldConfig } from '@herald/config';
import { clusterClient } from './cluster-connection';

/**
 * What every Herald Redis client is: a standalone connection or a Redis Cluster client. Both
 * speak the same commands; only the construction (and where INFO goes) differs.
 */
export type RedisClient = Redis | Cluster;

/** Where Redis is: REDIS_URL, plus REDIS_CLUSTER_NODES seeds when it is a cluster. */
export interface RedisTarget {
  readonly url: string;
  /** `host:port` seeds; empty for a standalone Redis at `url`. */
  readonly clusterNodes: readonly string[];
}

/** The target from the process's configuration (REDIS_URL, REDIS_CLUSTER_NODES). */
export function redisTarget(config: Pick<HeraldConfig, 'redis'>): RedisTarget {
  return { url: config.redis.url.reveal(), clusterNodes: config.redis.clusterNodes };
}

/** The options every client takes, whichever kind it is. */
export type ClientOptions = Pick<
  RedisOptions,
  | 'connectionName'
  | 'enableOfflineQueue'
  | 'enableAutoPipelining'
  | 'maxRetriesPerRequest'
  | 'commandTimeout'
  | 'connectTimeout'
  | 'lazyConnect'
> & {
  /** Reconnection delay, or null to give up (on a cluster: for the cluster as a whole). */
  readonly retryStrategy?: (times: number) => number | null;
};

/** Reconnect forever with a capped delay: Redis going away is an outage to ride out, not a crash. */
export const reconnectDelay = (times: number): number => Math.min(100 * 2 ** Math.min(times, 5), 2000);

/** ioredis options from a redis:// or rediss:// URL (BullMQ takes options, not URLs). */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: Number.isInteger(db) ? db : 0,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    retryStrategy: reconnectDelay,
  };
}

/** A standalone client at the URL, or a cluster client through the seeds (credentials and TLS from the URL). */
export function createRedisClient(target: RedisTarget, options: ClientOptions = {}): RedisClient {
  if (target.clusterNodes.length === 0) return new Redis({ ...redisOptionsFromUrl(target.url), ...options });
  return clusterClientFor(target, options);
}

function clusterClientFor(target: RedisTarget, options: ClientOptions): Cluster {
  const { username, password, tls } = redisOptionsFromUrl(target.url);
  return clusterClient(target.clusterNodes, { username, password, tls }, options, reconnectDelay);
}

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/** `{prefix}`: a hash tag, so every key of a queue lands in one Redis Cluster slot. */
export function hashTaggedPrefix(prefix: string): string {
  return `{${prefix}}`;
}

/**
 * BullMQ's connection. Standalone: options (BullMQ opens its own connections from them). Cluster:
 * BullMQ cannot build a cluster client from options, so it gets one client to share (workers
 * duplicate it for their blocking reads); BullConnectionLifecycle closes it at shutdown.
 */
export function bullConnection(target: RedisTarget): BullRedisOptions | Cluster {
  if (target.clusterNodes.length === 0) return { url: target.url, retryStrategy: reconnectDelay };
  return clusterClientFor(target, {
    connectionName: 'herald-bullmq',
    // BullMQ requires both for connections its workers block on: a job fetch must wait out an outage.
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
  });
}
