import type { EnvVar, HeraldConfig } from '@herald/config';
import type { RedisClient, RedisKeys } from '@herald/queues';
import type { DataSource } from 'typeorm';
import { ApiClient } from './api-client';
import { openDatabase, openRedis } from './connections';
import { CliError, EXIT } from './exit-codes';
import { Output, type CliIo } from './output';

/** The global options, each also read from its environment variable (commander reads them). */
export interface GlobalOptions {
  apiUrl: string;
  key?: string;
  databaseUrl?: string;
  redisUrl?: string;
  redisCluster?: string;
  queuePrefix?: string;
  json?: boolean;
}

/**
 * What a command runs with: the output, and its dependencies — each required, validated and
 * connected only when the command asks for it, so a command needs exactly the variables it uses
 * and a missing one is named in a one-line error.
 */
export class CliContext {
  readonly out: Output;
  private db: Promise<DataSource> | undefined;
  private redisClient: Promise<RedisClient> | undefined;

  constructor(
    readonly options: GlobalOptions,
    io: CliIo,
  ) {
    this.out = new Output(options.json === true, io);
  }

  /** Postgres (DATABASE_URL), connected; the first call's statement timeout holds for the command. */
  database(statementTimeoutMs?: number): Promise<DataSource> {
    this.db ??= (async () => {
      const url = await variable(
        'DATABASE_URL',
        required(
          this.options.databaseUrl,
          'DATABASE_URL',
          '--database-url',
          'the Postgres connection string',
        ),
      );
      return openDatabase(url, statementTimeoutMs);
    })();
    return this.db;
  }

  /** Redis (REDIS_URL; a cluster through REDIS_CLUSTER_NODES when set), connected. */
  redis(): Promise<RedisClient> {
    this.redisClient ??= (async () => {
      const url = await variable(
        'REDIS_URL',
        required(this.options.redisUrl, 'REDIS_URL', '--redis-url', 'the Redis connection string'),
      );
      const nodes = await variable('REDIS_CLUSTER_NODES', this.options.redisCluster);
      return openRedis(url, nodes.split(',').filter(Boolean));
    })();
    return this.redisClient;
  }

  /** Herald's Redis key naming under QUEUE_PREFIX (default `herald`), as the fleet uses it. */
  async redisKeys(): Promise<RedisKeys> {
    const [prefix, { RedisKeys }] = await Promise.all([
      variable('QUEUE_PREFIX', this.options.queuePrefix),
      import('@herald/queues'),
    ]);
    return new RedisKeys(prefix);
  }

  /** The HTTP API with the tenant key (HERALD_API_KEY). */
  api(): ApiClient {
    const key = required(this.options.key, 'HERALD_API_KEY', '--key', 'a tenant API key');
    if (!/^[\x21-\x7e]+$/.test(key)) {
      throw new CliError(EXIT.usage, 'HERALD_API_KEY holds spaces or other characters no API key has');
    }
    let url: URL;
    try {
      url = new URL(this.options.apiUrl);
    } catch {
      throw new CliError(EXIT.usage, `HERALD_API_URL is not a URL: ${this.options.apiUrl}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new CliError(EXIT.usage, `HERALD_API_URL must be an http or https URL: ${this.options.apiUrl}`);
    }
    return new ApiClient(url.toString(), key);
  }

  /**
   * The fleet's whole configuration, read and validated by @herald/config exactly as the api
   * reads it: commands that hash API keys need its pepper (HERALD_ENCRYPTION_KEY or API_KEY_PEPPER).
   */
  async fleetConfig(): Promise<HeraldConfig> {
    const { ConfigError, loadHeraldConfig } = await import('@herald/config');
    try {
      return loadHeraldConfig();
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(EXIT.usage, error.problems.join('; '));
      throw error;
    }
  }

  /** Closes whatever the command opened. */
  async close(): Promise<void> {
    const [db, redis] = await Promise.allSettled([this.db, this.redisClient]);
    await Promise.allSettled([
      db.status === 'fulfilled' && db.value?.isInitialized ? db.value.destroy() : undefined,
      redis.status === 'fulfilled' && redis.value
        ? redis.value.quit().catch(() => redis.value?.disconnect())
        : undefined,
    ]);
  }
}

function required(value: string | undefined, name: string, flag: string, what: string): string {
  if (value === undefined || value === '') {
    throw new CliError(EXIT.usage, `${name} is not set: give ${what} (or ${flag})`);
  }
  return value;
}

/** Validates a value with the fleet's own schema for that variable (libs/config), its default when unset. */
export async function variable(name: string, value: string | undefined): Promise<string> {
  const { ENV_VARS } = await import('@herald/config');
  const spec = (ENV_VARS as readonly EnvVar[]).find((v) => v.name === name);
  if (!spec) throw new Error(`no such variable in the config schema: ${name}`);
  const input = value === undefined || value === '' ? spec.default : value;
  const parsed = spec.schema.safeParse(input);
  if (!parsed.success) {
    throw new CliError(EXIT.usage, `${name} ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  return String(parsed.data);
}
