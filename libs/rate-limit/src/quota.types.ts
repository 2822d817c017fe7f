import type { WindowUnit } from '@herald/time';

/** A sender account's quotas per window; an absent unit is unlimited. Whole numbers ≥ 0. */
export interface QuotaLimits {
  readonly hour?: number;
  readonly day?: number;
  readonly week?: number;
}

/** What the quota needs to know about a sender account. */
export interface QuotaAccount {
  readonly id: string;
  /** IANA zone the account's windows are counted in (its day starts at local midnight). */
  readonly timeZone: string;
  readonly limits: QuotaLimits;
}

/** A per-run cap: at most `limit` units reserved (and not refunded) for one campaign run. */
export interface RunCap {
  readonly runId: string;
  readonly limit: number;
}

export type QuotaBackend = 'redis' | 'postgres';

/**
 * A grant of units, plain JSON so it can travel in job data. Keep it (or at least its id and
 * backend) until the send is settled, then `commit` or `refund` it.
 */
export interface Reservation {
  /** The caller's id: deterministic, one per attempt, e.g. `<delivery id>:<attempt>`. */
  readonly id: string;
  readonly accountId: string;
  readonly units: number;
  /** Where the units were counted; commit and refund go to the same place. */
  readonly backend: QuotaBackend;
  /** Epoch ms (the injected clock) when the units were reserved. */
  readonly reservedAt: number;
}

export type ReservationRef = Pick<Reservation, 'id' | 'backend'>;

export type Denial =
  /** A window is exhausted: nothing frees up before `retryAt` (the reset of the exhausted window(s)). */
  | { readonly reason: 'quota'; readonly retryAt: number; readonly exhausted: readonly WindowUnit[] }
  /** The run's cap is reached: waiting does not help. */
  | { readonly reason: 'run_cap' }
  /**
   * Not a decision: Redis ran out of leased units and Postgres could not lease more (`cause`).
   * Transient: ask again from `retryAt`; nothing says the quota is exhausted.
   */
  | { readonly reason: 'unavailable'; readonly retryAt: number; readonly cause: string };

export type ReserveResult =
  | { readonly admitted: true; readonly reservation: Reservation; readonly replayed: boolean }
  | ({ readonly admitted: false } & Denial);

export interface BatchReserveResult {
  /** Reservations granted, in the order of the ids asked for (a prefix of them). */
  readonly admitted: readonly Reservation[];
  /** Ids that were already reserved or committed: returned as they are, no new units taken. */
  readonly replayed: readonly Reservation[];
  /** Ids not admitted (everything after the first one that did not fit), with why. */
  readonly denied: readonly string[];
  readonly denial?: Denial;
  /** Ids already used and refunded: a new attempt needs a new id. */
  readonly conflicts: readonly string[];
}

export type CommitOutcome = 'committed' | 'already_committed' | 'refunded' | 'unknown' | 'unavailable';
export type RefundOutcome = 'refunded' | 'already_refunded' | 'committed' | 'unknown' | 'unavailable';

/** A reservation neither committed nor refunded yet: what a reconciler looks at after a crash. */
export interface PendingReservation {
  readonly id: string;
  readonly backend: QuotaBackend;
  readonly units: number;
  readonly reservedAt: number;
}

/** One window of an account as `GET /v1/sender-accounts/:id/quota` shows it. */
export interface WindowUsage {
  readonly unit: WindowUnit;
  readonly windowId: string;
  readonly limit: number;
  readonly used: number;
  readonly remaining: number;
  /** Epoch ms of the window's end. */
  readonly resetAt: number;
}

/** An id was reserved and refunded before: reusing it would let an old refund give back new units. */
export class ReservationConflictError extends Error {
  constructor(readonly reservationId: string) {
    super(`reservation ${reservationId} was already refunded: use a new id for a new attempt`);
    this.name = 'ReservationConflictError';
  }
}
