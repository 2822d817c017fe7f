import { dataSourceOptions, type DatabaseSettings } from './data-source-options';
import { QUERY_TIMEOUT_MARGIN_MS, QueryBoundClient } from './query-bound-client';

const settings = (statementTimeoutMs: number): DatabaseSettings => ({
  url: 'postgres://herald@127.0.0.1:5432/herald',
  poolMax: 3,
  statementTimeoutMs,
  idleInTransactionTimeoutMs: 0,
  applicationName: 'options-test',
});

const extra = (statementTimeoutMs: number) =>
  (dataSourceOptions(settings(statementTimeoutMs)) as { extra: Record<string, unknown> }).extra;

describe('dataSourceOptions: the client-side bound of a pooled query', () => {
  it('bounds every query at the statement timeout plus a margin, on kept-alive sockets, with the dropping client', () => {
    const options = extra(30_000);
    expect(options.statement_timeout).toBe(30_000);
    expect(options.query_timeout).toBe(30_000 + QUERY_TIMEOUT_MARGIN_MS);
    expect(options.keepAlive).toBe(true);
    expect(options.keepAliveInitialDelayMillis).toBeGreaterThan(0);
    expect(options.keepAliveInitialDelayMillis).toBeLessThanOrEqual(30_000);
    expect(options.Client).toBe(QueryBoundClient);
  });

  it('keeps no client-side bound where the server has none (migrations, statement timeout 0)', () => {
    const options = extra(0);
    expect(options.statement_timeout).toBe(0);
    expect(options.query_timeout).toBeUndefined();
    // The sockets are still kept alive: a migration's idle connection may sit behind a NAT too.
    expect(options.keepAlive).toBe(true);
  });
});
