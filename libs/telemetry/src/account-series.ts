import type { Counter, Gauge } from 'prom-client';
import { withinScrapeDeadline } from './scrape-deadline';

/** Which of these sender account ids still exist and are not disabled. */
export type LiveAccounts = (ids: readonly string[]) => Promise<ReadonlySet<string>>;

/** A per-account metric: a gauge set, or a counter counted (both can drop a series). */
type AccountGauge = Gauge<string> | Counter<string>;
type Series = Map<string, { gauge: AccountGauge; labels: Record<string, string> }>;

/** How long one answer of the live-accounts check serves the per-account gauges of a scrape. */
const CHECK_REUSE_MS = 1000;

/**
 * The per-account series of this process (quota windows, breaker state): each gauge sample
 * keyed by a sender account is set through here, so the series of an account that was deleted
 * or disabled can be removed. That happens at scrape time: the per-account gauges ask, before
 * they are read, which of the accounts they carry are still live (one query per scrape, reused
 * by all of them), and drop the rest. Without a check (a process with no database) nothing is
 * dropped. One instance per process, like prom-client's registry the gauges live in.
 */
export class AccountSeries {
  private readonly byAccount = new Map<
    string,
    Map<string, { gauge: AccountGauge; labels: Record<string, string> }>
  >();
  private readonly gaugeIds = new Map<AccountGauge, number>();
  private liveAccounts: LiveAccounts | undefined;
  private check: { at: number; done: Promise<void> } | undefined;

  /** Sets the check that says which accounts are live (the last caller wins). */
  useCheck(check: LiveAccounts): void {
    this.liveAccounts = check;
  }

  set(gauge: Gauge<string>, account: string, labels: Record<string, string>, value: number): void {
    gauge.set({ ...labels, account }, value);
    this.remember(gauge, account, labels);
  }

  /** Counts one for an account's series (dropped with the account's other series). */
  inc(counter: Counter<string>, account: string, labels: Record<string, string>): void {
    counter.inc({ ...labels, account });
    this.remember(counter, account, labels);
  }

  private remember(gauge: AccountGauge, account: string, labels: Record<string, string>): void {
    const all = { ...labels, account };
    if (!this.gaugeIds.has(gauge)) this.gaugeIds.set(gauge, this.gaugeIds.size);
    const key = `${this.gaugeIds.get(gauge)}:${JSON.stringify(all)}`;
    const series: Series = this.byAccount.get(account) ?? (new Map() as Series);
    series.set(key, { gauge, labels: all });
    this.byAccount.set(account, series);
  }

  /** Removes every series of these accounts now. */
  forget(accounts: Iterable<string>): void {
    for (const account of accounts) {
      for (const { gauge, labels } of this.byAccount.get(account)?.values() ?? []) gauge.remove(labels);
      this.byAccount.delete(account);
    }
  }

  /** Accounts this process has series for. */
  accounts(): string[] {
    return [...this.byAccount.keys()];
  }

  /** Drops the series of accounts that are gone; called by the per-account gauges' collect. */
  prune(now = Date.now()): Promise<void> {
    if (this.check && now - this.check.at < CHECK_REUSE_MS) return this.check.done;
    const done = this.runCheck();
    this.check = { at: now, done };
    return done;
  }

  private async runCheck(): Promise<void> {
    const check = this.liveAccounts;
    const ids = this.accounts();
    if (!check || ids.length === 0) return;
    // The database away or slow: keep the series (a stale account beats a failed scrape).
    const live = await withinScrapeDeadline(check(ids));
    if (live) this.forget(ids.filter((id) => !live.has(id)));
  }
}

export const accountSeries = new AccountSeries();
