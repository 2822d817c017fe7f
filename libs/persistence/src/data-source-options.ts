import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from './migrations';

export interface DatabaseSettings {
  url: string;
  poolMax: number;
  /** 0: none (migrations). */
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
      statement_timeout: settings.statementTimeoutMs,
      idle_in_transaction_session_timeout: settings.idleInTransactionTimeoutMs,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
    },
  };
}
