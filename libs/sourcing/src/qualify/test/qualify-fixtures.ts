import { randomUUID } from 'node:crypto';
import { OutboundGuard } from '@herald/channels';
import { parseHostOverrides } from '@herald/config';
import { dataSourceOptions } from '@herald/persistence';
import { createTestDatabase, type TestDatabase } from '@herald/testing';
import { DataSource } from 'typeorm';

/** A migrated database of its own with a DataSource on it. */
export async function testDataSource(): Promise<{ database: TestDatabase; dataSource: DataSource }> {
  const database = await createTestDatabase();
  const dataSource = new DataSource(
    dataSourceOptions({
      url: database.url,
      poolMax: 6,
      statementTimeoutMs: 0,
      idleInTransactionTimeoutMs: 0,
      applicationName: 'qualify-test',
    }),
  );
  await dataSource.initialize();
  return { database, dataSource };
}

/** The guard as tests run it: *.sites.test on loopback, private networks allowed or not. */
export function fakeWebGuard(allowPrivateNetworks = true): OutboundGuard {
  return new OutboundGuard({
    allowPrivateNetworks,
    hostOverrides: parseHostOverrides('*.sites.test=127.0.0.1'),
    resolve: () => Promise.reject(Object.assign(new Error('no DNS in tests'), { code: 'ENOTFOUND' })),
  });
}

export async function insertTenant(dataSource: DataSource): Promise<string> {
  const id = randomUUID();
  await dataSource.query(`INSERT INTO tenants (id, name, time_zone) VALUES ($1, $2, 'UTC')`, [
    id,
    `t-${id.slice(0, 8)}`,
  ]);
  return id;
}
