import { createTestDatabase, type TestDatabase } from '@herald/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';
import { SystemPingsRepository } from './system-pings.repository';

describe('SystemPingsRepository (SQL, no entity)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let pings: SystemPingsRepository;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = new DataSource(
      dataSourceOptions({
        url: database.url,
        poolMax: 2,
        statementTimeoutMs: 0,
        idleInTransactionTimeoutMs: 0,
        applicationName: 'test',
      }),
    );
    await dataSource.initialize();
    pings = new SystemPingsRepository(dataSource);
  });
  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  it('creates a queued ping stamped by the database and reads it back', async () => {
    const id = randomUUID();
    const created = await pings.create(id, 'req-1');
    expect(created).toEqual({
      id,
      requestId: 'req-1',
      processedBy: null,
      jobId: null,
      createdAt: expect.any(Date) as Date,
      processedAt: null,
    });
    expect(await pings.findById(id)).toEqual(created);
    expect(await pings.findById(randomUUID())).toBeNull();
  });

  it('marks a ping processed once: a replayed job keeps the first mark', async () => {
    const id = randomUUID();
    await pings.create(id, 'req-2');
    expect(await pings.markProcessed(id, 'worker-a', 'job-1')).toBe(true);
    expect(await pings.markProcessed(id, 'worker-b', 'job-2')).toBe(false);
    expect(await pings.findById(id)).toMatchObject({
      processedBy: 'worker-a',
      jobId: 'job-1',
      processedAt: expect.any(Date) as Date,
    });
  });
});
