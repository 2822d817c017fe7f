import type { RedisClient } from '@herald/queues';
import type { DataSource } from 'typeorm';
import { CliError, EXIT } from './exit-codes';

// The libraries are loaded when a command first needs them: `herald runs watch` never pays for
// TypeORM, and `herald --help` answers at once.

const CONNECT_TIMEOUT_MS = 3000;
/** The fleet's default (DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS): a command never idles in a transaction. */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000;

/**
 * A small pool on the fleet's own TypeORM settings (libs/persistence), connected or failing
 * within the pool's connect timeout. `statementTimeoutMs` 0 lets migrations run as long as they must.
 */
export async function openDatabase(url: string, statementTimeoutMs = 30_000): Promise<DataSource> {
  const [{ DataSource }, { dataSourceOptions }] = await Promise.all([
    import('typeorm'),
    import('@herald/persistence'),
  ]);
  const dataSource = new DataSource(
    dataSourceOptions({
      url,
      poolMax: 2,
      statementTimeoutMs,
      idleInTransactionTimeoutMs: IDLE_IN_TRANSACTION_TIMEOUT_MS,
      applicationName: 'herald-cli',
    }),
  );
  try {
    await dataSource.initialize();
  } catch (error) {
    throw new CliError(EXIT.unreachable, `cannot connect to Postgres (DATABASE_URL): ${errorMessage(error)}`);
  }
  return dataSource;
}

/**
 * One Redis connection for the whole command — standalone, or a cluster client when
 * REDIS_CLUSTER_NODES is set — built as the fleet builds its clients (libs/queues) but failing
 * fast: the fleet's clients reconnect forever, an operator's command must not hang.
 */
export async function openRedis(url: string, clusterNodes: readonly string[] = []): Promise<RedisClient> {
  const { createRedisClient } = await import('@herald/queues');
  const client = createRedisClient(
    { url, clusterNodes },
    {
      connectionName: 'herald-cli',
      lazyConnect: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      commandTimeout: 15_000,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    },
  );
  // The socket's error says why ("Connection is closed" is all `connect()` rejects with).
  let socketError: unknown;
  client.on('error', (error: Error) => (socketError = error));
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    const why = errorMessage(socketError ?? error);
    throw new CliError(EXIT.unreachable, `cannot connect to Redis (REDIS_URL): ${why}`);
  }
  return client;
}

/** A driver error in words, never the connection string (which may hold a password). */
export function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return [...new Set(error.errors.map(errorMessage))].join('; ');
  }
  if (error instanceof Error) {
    return error.message || (error as NodeJS.ErrnoException).code || error.name;
  }
  return String(error);
}
