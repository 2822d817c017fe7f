import { getOrCreateMetric } from '@herald/telemetry';
import pLimit from 'p-limit';
import { Gauge } from 'prom-client';

/**
 * The worker's bound on requests open at once to websites and enrichment providers
 * (SOURCING_FETCH_CONCURRENCY). A candidate waiting for its domain's pace holds no slot: only
 * a request on its way does, so slow sites and paced domains never idle the others. Exported
 * as `herald_sourcing_fetch_slots{state="busy"|"waiting"|"size"}`: waiting above zero for long
 * means the bound, not the sites, sets the pace.
 */
export class FetchSlots {
  /** The process's slots, read at scrape time (one FetchSlots per worker process). */
  private static current: FetchSlots | undefined;
  private readonly limit: pLimit.Limit;

  constructor(readonly size: number) {
    this.limit = pLimit(size);
    FetchSlots.current = this;
    getOrCreateMetric(
      'herald_sourcing_fetch_slots',
      () =>
        new Gauge({
          name: 'herald_sourcing_fetch_slots',
          help: 'Outbound fetch slots of this worker (SOURCING_FETCH_CONCURRENCY): size, busy, and requests waiting for one.',
          labelNames: ['state'],
          collect() {
            const slots = FetchSlots.current;
            if (!slots) return;
            this.set({ state: 'size' }, slots.size);
            this.set({ state: 'busy' }, slots.busy);
            this.set({ state: 'waiting' }, slots.waiting);
          },
        }),
    );
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    return this.limit(work);
  }

  /** Requests on their way now. */
  get busy(): number {
    return this.limit.activeCount;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.limit.pendingCount;
  }
}
