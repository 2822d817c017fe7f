import type { Bucket } from './buckets';

export interface LeaseAsk {
  readonly bucket: Bucket;
  readonly units: number;
}

/**
 * Coalesces the lease requests of one process: every caller that found Redis short during the
 * same tick adds its need, and one flush leases the sum (at least a block) per window. Without
 * it, N concurrent callers would each lease a block and strand most of the quota in Redis,
 * leaving nothing for the Postgres fallback.
 */
export class LeaseBatcher {
  private readonly demand = new Map<string, { bucket: Bucket; units: number }>();
  private flight: Promise<void> | undefined;

  constructor(
    private readonly keyOf: (bucket: Bucket) => string,
    private readonly flush: (asks: LeaseAsk[]) => Promise<void>,
  ) {}

  /** Resolves once a lease covering (at least) this demand has been attempted. */
  request(asks: readonly LeaseAsk[]): Promise<void> {
    for (const ask of asks) {
      const key = this.keyOf(ask.bucket);
      const current = this.demand.get(key);
      this.demand.set(key, { bucket: ask.bucket, units: (current?.units ?? 0) + ask.units });
    }
    this.flight ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const batch = [...this.demand.values()];
      this.demand.clear();
      this.flight = undefined;
      // Demand that arrives while this batch flushes goes into the next flight.
      return this.flush(batch);
    });
    return this.flight;
  }
}
