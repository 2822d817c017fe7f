import { createTestDatabase, eventually, type TestDatabase } from '@herald/testing';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { inTransaction } from './postgres-transaction';

/** A quota transaction whose connection dies says why, instead of QueryRunnerAlreadyReleasedError. */
describe('inTransaction', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let admin: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = new DataSource({ type: 'postgres', url: db.url, extra: { max: 4 } });
    await dataSource.initialize();
    admin = new Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await dataSource?.destroy();
    await db?.drop();
  });

  const runners = () => (dataSource.driver as PostgresDriver).connectedQueryRunners.length;

  it('throws the dropped connection’s own error when it dies between two statements', async () => {
    const attempt = inTransaction(dataSource, async (query) => {
      const [row] = await query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const before = runners();
      await admin.query('SELECT pg_terminate_backend($1)', [row?.pid]);
      // TypeORM releases the runner when the client reports the dropped connection.
      await eventually(() => Promise.resolve(runners() < before), { what: 'query runner released' });
      return query('SELECT 1');
    });
    const error = await attempt.then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(error?.name).not.toBe('QueryRunnerAlreadyReleasedError');
    expect(error?.code).toBe('57P01');
    expect(error?.message).toMatch(/terminating connection due to administrator command/);
  });

  it('commits, and rolls back when the work throws', async () => {
    await dataSource.query('CREATE TABLE tx_probe (n int)');
    await inTransaction(dataSource, (query) => query('INSERT INTO tx_probe VALUES (1)'));
    await expect(
      inTransaction(dataSource, async (query) => {
        await query('INSERT INTO tx_probe VALUES (2)');
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect(await dataSource.query('SELECT n FROM tx_probe')).toEqual([{ n: 1 }]);
  });
});
