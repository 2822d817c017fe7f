import { windowAt, type WindowUnit } from '@herald/time';
import type { QuotaAccount, RunCap } from './quota.types';

/**
 * One counter the quota checks: an account window (`acct:<id>`, `day:2026-03-29`) or a run cap
 * (`run:<id>`, `run`). The same (scope, windowId) names the Redis key and the Postgres row.
 */
export interface Bucket {
  readonly scope: string;
  readonly windowId: string;
  readonly unit: WindowUnit | 'run';
  readonly limit: number;
  /** Window end (the reset) in epoch ms; undefined for a run cap, which never resets. */
  readonly resetAt: number | undefined;
  /** When the counter may be forgotten (window end + slack). */
  readonly expireAt: number;
}

export interface BucketTiming {
  /** How long a window's counter outlives the window (late refunds, the usage endpoint). */
  readonly windowSlackMs: number;
  /** How long a run cap's counter lives after its last use. */
  readonly runCapTtlMs: number;
}

const UNITS: readonly WindowUnit[] = ['hour', 'day', 'week'];
const ID = /^[A-Za-z0-9._:-]{1,200}$/;

export function assertId(kind: string, id: string): void {
  if (!ID.test(id))
    throw new RangeError(
      `${kind} must be 1-200 characters of letters, digits and . _ : - (got ${JSON.stringify(id)})`,
    );
}

export function accountScope(accountId: string): string {
  return `acct:${accountId}`;
}

/** The buckets a reservation for `account` (and optionally a run) must fit in, at `now`. */
export function bucketsFor(
  account: QuotaAccount,
  runCap: RunCap | undefined,
  now: number,
  timing: BucketTiming,
): Bucket[] {
  assertId('account id', account.id);
  const buckets: Bucket[] = [];
  for (const unit of UNITS) {
    const limit = account.limits[unit];
    if (limit === undefined) continue;
    assertLimit(`${unit} quota`, limit);
    const window = windowAt(unit, account.timeZone, now);
    buckets.push({
      scope: accountScope(account.id),
      windowId: window.id,
      unit,
      limit,
      resetAt: window.endMs,
      expireAt: window.endMs + timing.windowSlackMs,
    });
  }
  if (runCap) {
    assertId('run id', runCap.runId);
    assertLimit('run cap', runCap.limit);
    buckets.push({
      scope: `run:${runCap.runId}`,
      windowId: 'run',
      unit: 'run',
      limit: runCap.limit,
      resetAt: undefined,
      expireAt: now + timing.runCapTtlMs,
    });
  }
  return buckets;
}

function assertLimit(what: string, limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new RangeError(`${what} must be a whole number ≥ 0, got ${limit}`);
}
