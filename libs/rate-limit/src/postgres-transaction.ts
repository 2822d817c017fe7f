import type { DataSource } from 'typeorm';

export type Query = <T>(sql: string, params?: unknown[]) => Promise<T[]>;

/** The pg client a TypeORM query runner holds: all this needs of it is its `error` event. */
interface ErrorEmitter {
  on(event: 'error', listener: (error: unknown) => void): unknown;
  removeListener(event: 'error', listener: (error: unknown) => void): unknown;
}

/**
 * Runs `work` in one READ COMMITTED transaction on a connection of its own. When the connection
 * dies between two statements (Postgres restarted, the backend terminated), TypeORM releases the
 * query runner on the client's `error` event and the next statement fails with
 * `QueryRunnerAlreadyReleasedError`, which says nothing of why: the connection's own error is
 * kept and thrown instead, so callers classify (and operators read) the real cause.
 */
export async function inTransaction<T>(
  dataSource: DataSource,
  work: (query: Query) => Promise<T>,
): Promise<T> {
  const runner = dataSource.createQueryRunner();
  const client = (await runner.connect()) as ErrorEmitter;
  let lost: unknown;
  const onError = (error: unknown) => (lost ??= error);
  client.on('error', onError);
  try {
    await runner.startTransaction('READ COMMITTED');
    const query: Query = async <R>(sql: string, params?: unknown[]) =>
      ((await runner.query(sql, params, true)) as { records: R[] }).records;
    const result = await work(query);
    await runner.commitTransaction();
    return result;
  } catch (error) {
    if (lost === undefined && runner.isTransactionActive)
      await runner.rollbackTransaction().catch(() => undefined);
    throw lost ?? error;
  } finally {
    client.removeListener('error', onError);
    await runner.release();
  }
}
