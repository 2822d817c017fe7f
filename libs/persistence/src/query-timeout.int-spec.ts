import {
  createTestDatabase,
  dataSourceBehindProxy,
  type FreezableProxy,
  type TestDatabase,
} from '@herald/testing';
import { Client } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { queryTimeoutMs } from './query-bound-client';

const STATEMENT_TIMEOUT_MS = 500;
const BOUND_MS = queryTimeoutMs(STATEMENT_TIMEOUT_MS)!;
/** Timers and a loaded CI box: how late past the bound an answer may still count as "within it". */
const SLACK_MS = 1000;

/**
 * `text` sent as a pg "submittable" on the transaction's own connection, the way COPY is
 * (libs/contacts copy-in): no callback, pg reports to its handlers. Settles on ReadyForQuery.
 */
function submit(manager: EntityManager, text: string): Promise<void> {
  const client = (manager.queryRunner as unknown as { databaseConnection: { query(s: object): unknown } })
    .databaseConnection;
  return new Promise<void>((resolve, reject) => {
    client.query({
      submit: (connection: { query(text: string): void }) => connection.query(text),
      handleError: (error: Error) => reject(error),
      handleReadyForQuery: () => resolve(),
      handleRowDescription: () => undefined,
      handleDataRow: () => undefined,
      handleCommandComplete: () => undefined,
      handleEmptyQuery: () => undefined,
    });
  });
}

/**
 * Postgres behind a proxy that can go silent (no FIN, no RST): what a partition or a frozen host
 * looks like to the pool. A single pooled connection, so a frozen client that went back to the
 * pool would hold up every next query.
 */
describe('a pooled query on a connection that went silent', () => {
  let database: TestDatabase;
  let proxy: FreezableProxy;
  let dataSource: DataSource;
  let admin: Client;

  const pid = async (): Promise<number> => {
    const [row] = await dataSource.query<{ pid: number }[]>('SELECT pg_backend_pid() AS pid');
    return row!.pid;
  };
  const backendAlive = async (backend: number): Promise<boolean> => {
    const { rows } = await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [backend]);
    return rows.length === 1;
  };
  /** How long `work` took to reject, and with what. */
  const rejection = async (work: () => Promise<unknown>): Promise<{ error: Error; ms: number }> => {
    const started = performance.now();
    const error = await work().then(
      () => {
        throw new Error('expected the query to reject');
      },
      (e: unknown) => e as Error,
    );
    return { error, ms: performance.now() - started };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    ({ proxy, dataSource } = await dataSourceBehindProxy(database.url, {
      poolMax: 1,
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
      applicationName: 'query-timeout-test',
    }));
    admin = new Client({ connectionString: database.url });
    await admin.connect();
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await proxy?.close();
    await admin?.end();
    await database?.drop();
  });

  it('rejects within the bound with the read timeout, and the next query gets a fresh connection', async () => {
    const before = await pid();
    expect(proxy.freezeAll()).toBe(1);

    const { error, ms } = await rejection(() => dataSource.query('SELECT 1'));
    expect(error.message).toMatch(/Query read timeout/);
    expect(ms).toBeGreaterThanOrEqual(BOUND_MS - 5);
    expect(ms).toBeLessThan(BOUND_MS + SLACK_MS);

    // A blackhole, not a reset: Postgres still holds the old session, so the new pid is a new
    // connection the pool opened, not the old one after a reconnect.
    expect(await backendAlive(before)).toBe(true);
    const started = performance.now();
    const after = await pid();
    expect(after).not.toBe(before);
    expect(performance.now() - started).toBeLessThan(STATEMENT_TIMEOUT_MS);
  });

  it('a transaction on a silent connection fails within one bound (its ROLLBACK does not wait behind the hung statement)', async () => {
    const before = await pid();
    const frozen = proxy.freezeOn('SELECT 2 AS two', 'after');

    const { error, ms } = await rejection(() =>
      dataSource.transaction((manager) => manager.query('SELECT 2 AS two')),
    );
    await frozen;
    expect(error.message).toMatch(/Query read timeout/);
    expect(ms).toBeLessThan(BOUND_MS + SLACK_MS);
    expect(await pid()).not.toBe(before);
  });

  it('a submittable (how COPY is sent) on a silent connection fails within one bound, inside its transaction', async () => {
    const before = await pid();
    const frozen = proxy.freezeOn('SELECT 3 AS three', 'before');

    const { error, ms } = await rejection(() =>
      dataSource.transaction((manager) => submit(manager, 'SELECT 3 AS three')),
    );
    await frozen;
    expect(error.message).toMatch(/Query read timeout/);
    expect(ms).toBeLessThan(BOUND_MS + SLACK_MS);
    expect(await pid()).not.toBe(before);
  });

  it('a submittable that completed keeps its connection when its bound passes later, in use by the next caller', async () => {
    // pg clears a submittable's timer only if it calls the callback pg gives it; `submit` does
    // not, so pg's timer still fires one bound after the statement, on the pool's one client,
    // which by then serves the queries below: they must all land on that same connection.
    const before = await dataSource.transaction(async (manager) => {
      await submit(manager, 'SELECT 4 AS four');
      const [row] = await manager.query<{ pid: number }[]>('SELECT pg_backend_pid() AS pid');
      return row!.pid;
    });
    const started = performance.now();
    let queries = 0;
    while (performance.now() - started < BOUND_MS + SLACK_MS) {
      expect(await pid()).toBe(before);
      queries += 1;
    }
    expect(queries).toBeGreaterThan(10);
  });

  it('a slow but healthy statement is still ended by Postgres (57014), and its connection kept', async () => {
    const before = await pid();
    const { error } = await rejection(() => dataSource.query('SELECT pg_sleep(5)'));
    expect((error as Error & { driverError?: { code?: string } }).driverError?.code).toBe('57014');
    expect(await pid()).toBe(before);
  });
});
