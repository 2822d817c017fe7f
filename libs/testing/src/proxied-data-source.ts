import { dataSourceOptions } from '@herald/persistence';
import { DataSource } from 'typeorm';
import { FreezableProxy } from './freezable-proxy';

/**
 * A pool configured as Herald's own (dataSourceOptions) that reaches the database through a new
 * FreezableProxy, so a test can make its connections go silent. Initialized; destroy the data
 * source, then close the proxy.
 */
export async function dataSourceBehindProxy(
  databaseUrl: string,
  options: { poolMax: number; statementTimeoutMs: number; applicationName: string },
): Promise<{ proxy: FreezableProxy; dataSource: DataSource }> {
  const target = new URL(databaseUrl);
  const proxy = await FreezableProxy.start({ host: target.hostname, port: Number(target.port) });
  const dataSource = new DataSource(
    dataSourceOptions({ url: proxy.via(databaseUrl), idleInTransactionTimeoutMs: 0, ...options }),
  );
  await dataSource.initialize();
  return { proxy, dataSource };
}
