import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from './migrations';
import { QueryBoundClient, queryTimeoutMs } from './query-bound-client';

/**
 * TCP keepalive's first probe after this long idle: a pooled connection whose peer vanished
 * without a reset (a partition, a NAT entry gone) is found dead while it idles, before a caller
 * takes it. It cannot bound a statement that is waiting on data it sent; query_timeout does.
 */
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

export interface DatabaseSettings {
  url: string;
  poolMax: number;
  /** 0: none (migrations), and then no client-side bound either. */
  statementTimeoutMs: number;
  /**
   * Postgres ends a session idle inside a transaction this long (0: never), so a caller stuck
   * between two statements cannot keep a pooled connection and its locks.
   */
  idleInTransactionTimeoutMs: number;
  applicationName: string;
}

/**
 * The one place TypeORM is configured. The schema is the migrations' and the queries are SQL
 * (docs/adr/0003-sql-first-schema.md): no entities, so TypeORM never diffs or synchronises.
 */
export function dataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    entities: [],
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    applicationName: settings.applicationName,
    extra: {
      max: settings.poolMax,
      // Bounds the server; query_timeout bounds the wait for its answer, which a silent network
      // would otherwise stretch to TCP's own give-up (many minutes), and QueryBoundClient drops
      // the connection of a statement that passed it.
      statement_timeout: settings.statementTimeoutMs,
      query_timeout: queryTimeoutMs(settings.statementTimeoutMs),
      Client: QueryBoundClient,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
      idle_in_transaction_session_timeout: settings.idleInTransactionTimeoutMs,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
    },
  };
}
