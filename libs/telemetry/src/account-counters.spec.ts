import { Counter, Registry } from 'prom-client';
import { AccountSeries } from './account-series';

describe('per-account counters', () => {
  it('count per account and leave with the account, like the per-account gauges', async () => {
    const registry = new Registry();
    const counter = new Counter({
      name: 'test_account_sends_total',
      help: 'test',
      labelNames: ['account', 'outcome'],
      registers: [registry],
    });
    const series = new AccountSeries();
    series.inc(counter, 'acc-1', { outcome: 'sent' });
    series.inc(counter, 'acc-1', { outcome: 'sent' });
    series.inc(counter, 'acc-2', { outcome: 'failed' });
    const values = async () =>
      (await counter.get()).values.map(
        (v) => `${String(v.labels.account)} ${String(v.labels.outcome)} ${v.value}`,
      );
    expect(await values()).toEqual(['acc-1 sent 2', 'acc-2 failed 1']);
    expect(series.accounts().sort()).toEqual(['acc-1', 'acc-2']);
    series.useCheck((ids) => Promise.resolve(new Set(ids.filter((id) => id !== 'acc-2'))));
    await series.prune(Date.now());
    expect(await values()).toEqual(['acc-1 sent 2']);
  });
});
