import { createTestDatabase, type TestDatabase } from '@herald/testing';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { SQL_FIRST_ADR } from './cli/migration-template';
import { dataSourceOptions } from './data-source-options';

/**
 * The schema is the migrations' SQL and TypeORM knows no entity (docs/adr/0003): there is no
 * model for `migration:generate` to diff, so it can never propose dropping what the SQL made.
 */
describe('SQL-first schema: TypeORM holds no model of its own', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = new DataSource(
      dataSourceOptions({
        url: database.url,
        poolMax: 1,
        statementTimeoutMs: 0,
        idleInTransactionTimeoutMs: 0,
        applicationName: 'test',
      }),
    );
    await dataSource.initialize();
  });
  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  it('declares no entities, and the decision is written down', () => {
    expect(dataSource.entityMetadatas).toEqual([]);
    expect(existsSync(join(__dirname, '../../..', SQL_FIRST_ADR))).toBe(true);
  });

  it('proposes no schema change against a freshly migrated database', async () => {
    const { upQueries, downQueries } = await dataSource.driver.createSchemaBuilder().log();
    expect(upQueries.map((q) => q.query)).toEqual([]);
    expect(downQueries.map((q) => q.query)).toEqual([]);
    // The database is really migrated (the diff is empty because nothing is modelled, not because nothing exists).
    expect(await dataSource.showMigrations()).toBe(false);
    const [{ count }] = await dataSource.query<[{ count: number }]>(
      `SELECT count(*)::int AS count FROM pg_indexes WHERE schemaname = 'public'`,
    );
    expect(count).toBeGreaterThan(20);
  });
});
