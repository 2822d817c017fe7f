import { createTestDatabase, type TestDatabase } from '@herald/testing';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';

describe('dataSourceOptions: every pooled session carries its timeouts', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = new DataSource(
      dataSourceOptions({
        url: database.url,
        poolMax: 2,
        statementTimeoutMs: 1234,
        idleInTransactionTimeoutMs: 300,
        applicationName: 'timeouts-test',
      }),
    );
    await dataSource.initialize();
  });
  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  it('sets statement_timeout and idle_in_transaction_session_timeout on the session', async () => {
    const [statement] = await dataSource.query<{ statement_timeout: string }[]>('SHOW statement_timeout');
    const [idle] = await dataSource.query<{ idle_in_transaction_session_timeout: string }[]>(
      'SHOW idle_in_transaction_session_timeout',
    );
    expect(statement!.statement_timeout).toBe('1234ms');
    expect(idle!.idle_in_transaction_session_timeout).toBe('300ms');
  });

  it('a transaction left idle loses its session, and the pool still serves others', async () => {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    const client = (runner as unknown as { databaseConnection: NodeJS.EventEmitter }).databaseConnection;
    const terminated = new Promise<Error>((resolve) => client.once('error', resolve));
    await runner.startTransaction();
    // Nothing more is sent: Postgres ends the session once it has idled 300 ms in the transaction.
    const error = await terminated;
    expect(error.message).toMatch(/idle-in-transaction timeout|terminat/i);
    await runner.release().catch(() => undefined);
    expect(await dataSource.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });
});
