import type { RedisKeys } from '@herald/queues';
import type { HeraldMetrics } from '@herald/telemetry';
import type { Clock, WindowUnit } from '@herald/time';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { accountScope, assertId, bucketsFor, type Bucket } from './buckets';
import { PostgresQuotaStore } from './postgres-quota.store';
import {
  ReservationConflictError,
  type BatchReserveResult,
  type CommitOutcome,
  type Denial,
  type PendingReservation,
  type QuotaAccount,
  type QuotaBackend,
  type RefundOutcome,
  type Reservation,
  type ReservationRef,
  type ReserveResult,
  type RunCap,
  type WindowUsage,
} from './quota.types';
import { RedisQuotaStore, type ItemCode, type ReserveItem } from './redis-quota.store';
import { LeaseBatcher, type LeaseAsk } from './lease-batcher';
import { isRedisUnavailable } from '@herald/queues';

export interface QuotaServiceOptions {
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly dataSource: DataSource;
  readonly clock: Clock;
  readonly metrics?: HeraldMetrics;
  /**
   * Share of a window's limit Redis leases from Postgres at a time (default 5 %, at least the
   * units asked for). Smaller: more Postgres round trips; larger: more units stranded if Redis
   * loses its data (stranded units are never over-admitted, only not used).
   */
  readonly leaseFraction?: number;
  /** How long a window counter outlives the window (default 1 h). */
  readonly windowSlackMs?: number;
  /** How long a run cap counter lives after its last use (default 7 days). */
  readonly runCapTtlMs?: number;
  /** How long a reservation record is kept for commit, refund and reconciliation (default 8 days). */
  readonly reservationTtlMs?: number;
  /** Told when decisions move between Redis and Postgres, and why. */
  readonly onBackendChange?: (backend: QuotaBackend, cause?: Error) => void;
  /** Told when Postgres could not lease more units to Redis (Redis then admits within what it holds). */
  readonly onLeaseError?: (error: Error) => void;
}

/** Lease rounds before a reservation settles for what Redis already holds. */
const MAX_LEASE_ROUNDS = 8;
const MAX_BATCH = 1000;
/** When to ask again after a denial that came from Postgres refusing a lease, not from the quota. */
const UNAVAILABLE_RETRY_MS = 1000;

/**
 * Sender-account quotas (DESIGN promise 1): reserve before a send, commit after it, refund when
 * it did not happen. Decisions run as one Redis Lua script across all of an account's windows
 * (hour, day, week in the account's zone) and an optional per-run cap; Redis admits within
 * blocks of units leased from Postgres, so when Redis is unreachable Postgres admits the rest
 * directly and the sum never exceeds a limit (docs/adr/0001-quota-fallback.md).
 *
 * Reservation ids are the caller's: make them deterministic and unique per attempt
 * (`<delivery id>:<attempt>`). Reserving an id again returns the first reservation without
 * taking units, so a retried call is harmless; a crashed process's reservations show up in
 * `pending()` for a reconciler to commit (the send happened) or refund (it did not).
 */
export class QuotaService {
  private readonly redisStore: RedisQuotaStore;
  private readonly pgStore: PostgresQuotaStore;
  private readonly leaseFraction: number;
  private readonly timing: { windowSlackMs: number; runCapTtlMs: number };
  private readonly reservationTtlMs: number;
  private readonly leases: LeaseBatcher;
  private lastBackend: QuotaBackend | undefined;

  constructor(private readonly options: QuotaServiceOptions) {
    this.redisStore = new RedisQuotaStore(options.redis, options.keys);
    this.pgStore = new PostgresQuotaStore(options.dataSource);
    this.leaseFraction = options.leaseFraction ?? 0.05;
    if (!(this.leaseFraction > 0 && this.leaseFraction <= 1))
      throw new RangeError('leaseFraction must be in (0, 1]');
    this.timing = {
      windowSlackMs: options.windowSlackMs ?? 3_600_000,
      runCapTtlMs: options.runCapTtlMs ?? 7 * 86_400_000,
    };
    this.reservationTtlMs = options.reservationTtlMs ?? 8 * 86_400_000;
    this.leases = new LeaseBatcher(
      (bucket) => this.redisStore.bucketKey(bucket),
      (asks) => this.lease(asks, options.clock.nowMs()),
    );
  }

  /** The backend the last decision used (undefined before the first one). */
  get backend(): QuotaBackend | undefined {
    return this.lastBackend;
  }

  /** Reserves `units` (default 1) in every window of the account and in the run cap, or none. */
  async reserve(request: {
    account: QuotaAccount;
    reservationId: string;
    units?: number;
    runCap?: RunCap;
  }): Promise<ReserveResult> {
    const units = request.units ?? 1;
    if (!Number.isSafeInteger(units) || units < 1)
      throw new RangeError(`units must be a whole number ≥ 1, got ${units}`);
    const result = await this.reserveItems(request.account, request.runCap, [
      { id: request.reservationId, units },
    ]);
    if (result.conflicts.length > 0) throw new ReservationConflictError(request.reservationId);
    const reservation = result.admitted[0] ?? result.replayed[0];
    if (reservation) return { admitted: true, reservation, replayed: result.admitted.length === 0 };
    if (!result.denial)
      throw new Error(`reservation ${request.reservationId} was neither admitted nor denied`);
    return { admitted: false, ...result.denial };
  }

  /**
   * Reserves one unit per id, in order, in one round trip: admits the longest prefix that fits
   * (for a batch of deliveries; the rest wait for `denial.retryAt`).
   */
  async reserveBatch(request: {
    account: QuotaAccount;
    reservationIds: readonly string[];
    runCap?: RunCap;
  }): Promise<BatchReserveResult> {
    if (request.reservationIds.length > MAX_BATCH) throw new RangeError(`at most ${MAX_BATCH} ids per batch`);
    if (new Set(request.reservationIds).size !== request.reservationIds.length) {
      throw new RangeError('reservation ids in a batch must be distinct');
    }
    return this.reserveItems(
      request.account,
      request.runCap,
      request.reservationIds.map((id) => ({ id, units: 1 })),
    );
  }

  /** Makes a reservation final (the send happened). Idempotent. */
  async commit(ref: ReservationRef): Promise<CommitOutcome> {
    const outcome = await this.settle(ref, (store) =>
      store === 'redis'
        ? this.redisStore.commit(ref.id)
        : this.pgStore.commit(ref.id, this.options.clock.nowMs()),
    );
    if (outcome === 'committed')
      this.options.metrics?.quotaDecisions.inc({ decision: 'committed', backend: ref.backend });
    return outcome;
  }

  /**
   * Gives a reservation's units back to the windows (and run cap) they were taken from (the send
   * did not happen). Idempotent: a second refund gives nothing back; a committed one is final.
   */
  async refund(ref: ReservationRef): Promise<RefundOutcome> {
    const outcome = await this.settle(ref, (store) =>
      store === 'redis'
        ? this.redisStore.refund(ref.id)
        : this.pgStore.refund(ref.id, this.options.clock.nowMs()),
    );
    if (outcome === 'refunded')
      this.options.metrics?.quotaDecisions.inc({ decision: 'refunded', backend: ref.backend });
    return outcome;
  }

  /**
   * `commit` for many reservations: those counted in Redis in one call, those in Postgres one
   * by one. The outcomes in the order of `refs`; Redis out of reach makes its ones `unavailable`.
   */
  async commitMany(refs: readonly ReservationRef[]): Promise<CommitOutcome[]> {
    const outcomes = await this.settleMany(
      refs,
      (ids) => this.redisStore.commitMany(ids),
      (ref) => this.commit(ref),
    );
    const committed = outcomes.filter((o, i) => o === 'committed' && refs[i]!.backend === 'redis').length;
    if (committed > 0)
      this.options.metrics?.quotaDecisions.inc({ decision: 'committed', backend: 'redis' }, committed);
    return outcomes;
  }

  /** `refund` for many reservations, as `commitMany` commits them. */
  async refundMany(refs: readonly ReservationRef[]): Promise<RefundOutcome[]> {
    const outcomes = await this.settleMany(
      refs,
      (ids) => this.redisStore.refundMany(ids),
      (ref) => this.refund(ref),
    );
    const refunded = outcomes.filter((o, i) => o === 'refunded' && refs[i]!.backend === 'redis').length;
    if (refunded > 0)
      this.options.metrics?.quotaDecisions.inc({ decision: 'refunded', backend: 'redis' }, refunded);
    return outcomes;
  }

  /**
   * Reservations neither committed nor refunded for at least `olderThanMs`: a crashed worker's.
   * Both backends are asked; one that cannot be reached is skipped.
   */
  async pending(olderThanMs: number, limit = 1000): Promise<PendingReservation[]> {
    const before = this.options.clock.nowMs() - olderThanMs;
    const fromRedis = this.redisStore.ready
      ? await this.redisStore.pending(before, limit).catch((error: unknown) => {
          if (isRedisUnavailable(error)) return [];
          throw error;
        })
      : [];
    const fromPg = await this.pgStore.pending(before, limit);
    return [...fromRedis, ...fromPg].sort((a, b) => a.reservedAt - b.reservedAt).slice(0, limit);
  }

  /**
   * Current usage of each configured window, for the API. `used` counts every unit handed out
   * (reserved, committed, leased to Redis and not yet used counts as remaining); without Redis
   * it is conservative.
   */
  async usage(account: QuotaAccount): Promise<WindowUsage[]> {
    const buckets = bucketsFor(account, undefined, this.options.clock.nowMs(), this.timing);
    const pg = await this.pgStore.usage(buckets);
    const redis = this.redisStore.ready
      ? await this.redisStore.usage(buckets).catch(() => buckets.map(() => ({ used: 0, cap: 0 })))
      : buckets.map(() => ({ used: 0, cap: 0 }));
    return buckets.map((b, i) => {
      const p = pg[i] ?? { used: 0, leased: 0 };
      const r = redis[i] ?? { used: 0, cap: 0 };
      const inRedis = Math.max(0, Math.min(r.cap, p.leased) - r.used);
      const remaining = Math.max(0, Math.min(b.limit, b.limit - p.used - p.leased + inRedis));
      return {
        unit: b.unit as WindowUnit,
        windowId: b.windowId,
        limit: b.limit,
        used: b.limit - remaining,
        remaining,
        resetAt: b.resetAt ?? 0,
      };
    });
  }

  /** Housekeeping for the beat: deletes Postgres rows of windows and reservations long past. */
  purgeExpired(): Promise<number> {
    return this.pgStore.purgeExpired(this.options.clock.nowMs());
  }

  private async reserveItems(
    account: QuotaAccount,
    runCap: RunCap | undefined,
    items: readonly ReserveItem[],
  ): Promise<BatchReserveResult> {
    for (const item of items) assertId('reservation id', item.id);
    const now = this.options.clock.nowMs();
    const buckets = bucketsFor(account, runCap, now, this.timing);
    let backend: QuotaBackend = 'redis';
    let outcome: {
      items: readonly ItemCode[];
      blocked: readonly number[];
      remaining: readonly number[];
      leaseFailure?: Error;
    };
    try {
      if (!this.redisStore.ready) throw new RedisNotReadyError(this.options.redis.status);
      outcome = await this.reserveInRedis(buckets, items, now);
    } catch (error) {
      if (!isRedisUnavailable(error)) throw error;
      backend = 'postgres';
      this.switchTo('postgres', error as Error);
      outcome = await this.pgStore.reserve(
        accountScope(account.id),
        buckets,
        items,
        now,
        this.reservationTtlMs,
      );
    }
    if (backend === 'redis') this.switchTo('redis');
    return this.describe(account, buckets, items, outcome, backend, now);
  }

  private async reserveInRedis(buckets: readonly Bucket[], items: readonly ReserveItem[], now: number) {
    let allowLease = true;
    let leaseFailure: Error | undefined;
    for (let round = 0; ; round++) {
      const reply = await this.redisStore.reserve(buckets, items, now, allowLease, this.reservationTtlMs);
      if (reply.kind === 'done') return { ...reply, ...(leaseFailure ? { leaseFailure } : {}) };
      if (round >= MAX_LEASE_ROUNDS) {
        allowLease = false;
        continue;
      }
      try {
        await this.leases.request(
          reply.asks.map(({ bucket, units }) => ({ bucket: buckets[bucket]!, units })),
        );
      } catch (error) {
        if (isRedisUnavailable(error) && !(error instanceof LeaseError)) throw error;
        // Postgres is down: Redis goes on admitting within the units it already holds.
        this.options.onLeaseError?.(error as Error);
        leaseFailure = error as Error;
        allowLease = false;
      }
    }
  }

  /** One lease for the coalesced demand of this process: Postgres first, then Redis. */
  private async lease(asks: LeaseAsk[], now: number): Promise<void> {
    let grants: Awaited<ReturnType<PostgresQuotaStore['lease']>>;
    try {
      grants = await this.pgStore.lease(
        asks.map(({ bucket, units }) => ({
          bucket,
          units: Math.max(units, Math.ceil(bucket.limit * this.leaseFraction)),
        })),
      );
    } catch (error) {
      throw new LeaseError(error);
    }
    // Postgres has committed the lease: only now may Redis admit within it. A crash between
    // the two strands the units (never over-admits).
    await this.redisStore.grant(grants, now);
  }

  private describe(
    account: QuotaAccount,
    buckets: readonly Bucket[],
    items: readonly ReserveItem[],
    outcome: {
      items: readonly ItemCode[];
      blocked: readonly number[];
      remaining: readonly number[];
      leaseFailure?: Error;
    },
    backend: QuotaBackend,
    now: number,
  ): BatchReserveResult {
    const admitted: Reservation[] = [];
    const replayed: Reservation[] = [];
    const denied: string[] = [];
    const conflicts: string[] = [];
    let deniedUnits = 0;
    outcome.items.forEach((code, i) => {
      const item = items[i]!;
      switch (code.code) {
        case 'a':
          admitted.push({ id: item.id, accountId: account.id, units: item.units, backend, reservedAt: now });
          break;
        case 'd':
          denied.push(item.id);
          deniedUnits += item.units;
          break;
        case 'r':
        case 'c':
          replayed.push({
            id: item.id,
            accountId: account.id,
            units: code.units,
            backend,
            reservedAt: code.reservedAt,
          });
          break;
        case 'f':
          conflicts.push(item.id);
          break;
      }
    });
    const metrics = this.options.metrics;
    if (metrics) {
      const admittedUnits = admitted.reduce((sum, r) => sum + r.units, 0);
      if (admittedUnits > 0) metrics.quotaDecisions.inc({ decision: 'admitted', backend }, admittedUnits);
      if (deniedUnits > 0) metrics.quotaDecisions.inc({ decision: 'denied', backend }, deniedUnits);
      buckets.forEach((b, i) => {
        if (b.unit === 'run') return;
        const remaining = outcome.remaining[i];
        metrics.setQuotaWindow(
          account.id,
          b.unit,
          b.limit,
          remaining === undefined ? undefined : Math.max(0, remaining),
        );
      });
    }
    return {
      admitted,
      replayed,
      denied,
      conflicts,
      ...(denied.length > 0
        ? {
            // Without the lease Redis asked for, a denial says nothing about the quota itself.
            denial: outcome.leaseFailure
              ? {
                  reason: 'unavailable' as const,
                  retryAt: now + UNAVAILABLE_RETRY_MS,
                  cause: outcome.leaseFailure.message,
                }
              : denialFor(buckets, outcome.blocked),
          }
        : {}),
    };
  }

  private async settleMany<T extends CommitOutcome | RefundOutcome>(
    refs: readonly ReservationRef[],
    inRedis: (ids: readonly string[]) => Promise<T[]>,
    one: (ref: ReservationRef) => Promise<T | 'unavailable'>,
  ): Promise<(T | 'unavailable')[]> {
    const outcomes: (T | 'unavailable')[] = new Array<T | 'unavailable'>(refs.length);
    const redisAt: number[] = [];
    const pgAt: number[] = [];
    refs.forEach((r, i) => (r.backend === 'redis' ? redisAt : pgAt).push(i));
    await Promise.all([
      (async () => {
        if (redisAt.length === 0) return;
        let replies: (T | 'unavailable')[];
        if (!this.redisStore.ready) replies = redisAt.map(() => 'unavailable' as const);
        else {
          try {
            replies = await inRedis(redisAt.map((i) => refs[i]!.id));
          } catch (error) {
            if (!isRedisUnavailable(error)) throw error;
            replies = redisAt.map(() => 'unavailable' as const);
          }
        }
        redisAt.forEach((i, j) => (outcomes[i] = replies[j]!));
      })(),
      ...pgAt.map(async (i) => {
        outcomes[i] = await one(refs[i]!);
      }),
    ]);
    return outcomes;
  }

  private async settle<T extends CommitOutcome | RefundOutcome>(
    ref: ReservationRef,
    work: (store: QuotaBackend) => Promise<T>,
  ): Promise<T | 'unavailable'> {
    if (ref.backend === 'postgres') return work('postgres');
    if (!this.redisStore.ready) return 'unavailable';
    try {
      return await work('redis');
    } catch (error) {
      if (isRedisUnavailable(error)) return 'unavailable';
      throw error;
    }
  }

  private switchTo(backend: QuotaBackend, cause?: Error): void {
    if (this.lastBackend === backend) return;
    this.lastBackend = backend;
    this.options.metrics?.quotaBackend.set({ backend }, 1);
    this.options.metrics?.quotaBackend.set({ backend: backend === 'redis' ? 'postgres' : 'redis' }, 0);
    this.options.onBackendChange?.(backend, cause);
  }
}

function denialFor(buckets: readonly Bucket[], blocked: readonly number[]): Denial {
  const hit = blocked.map((i) => buckets[i]).filter((b): b is Bucket => b !== undefined);
  if (hit.length === 0) throw new Error('quota script denied an item without naming a window');
  if (hit.some((b) => b.unit === 'run')) return { reason: 'run_cap' };
  const windows = hit.filter((b): b is Bucket & { unit: WindowUnit; resetAt: number } => b.unit !== 'run');
  return {
    reason: 'quota',
    // Every exhausted window must reset before one more unit fits.
    retryAt: Math.max(...windows.map((b) => b.resetAt)),
    exhausted: windows.map((b) => b.unit),
  };
}

/** Postgres could not lease: distinct from Redis going away, which moves decisions to Postgres. */
class LeaseError extends Error {
  constructor(override readonly cause: unknown) {
    super(`quota lease from postgres failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'LeaseError';
  }
}

class RedisNotReadyError extends Error {
  constructor(status: string) {
    super(`redis connection is ${status}`);
    this.name = 'RedisNotReadyError';
  }
}
