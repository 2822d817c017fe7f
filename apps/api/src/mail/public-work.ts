import { Inject, Injectable } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { HeraldMetrics } from '@herald/telemetry';
import pLimit from 'p-limit';

/** A public route whose recording may be skipped under a flood: the answer does not depend on it. */
export type SheddableRoute = 'open' | 'click';

/**
 * The database share of the public email routes on this replica: at most
 * PUBLIC_ROUTES_DB_CONCURRENCY of their lookups and recordings at once, so a flood of valid links
 * (anyone who received an email holds some) never takes the pool the authenticated API needs;
 * up to PUBLIC_ROUTES_QUEUE more wait their turn. Past that an open or a click is answered
 * without being recorded (the pixel still loads, the link still goes) and counted; an
 * unsubscribe is never shed: it waits, because it has to take effect. Bounded by concurrency, not
 * per client address: Gmail's and Apple's image proxies fetch every recipient's pixel from a few
 * addresses, and a per-address limit would drop real opens.
 */
@Injectable()
export class PublicWork {
  private readonly limit: pLimit.Limit;
  private readonly queue: number;

  constructor(
    @Inject(HERALD_CONFIG) config: HeraldConfig,
    private readonly metrics: HeraldMetrics,
  ) {
    this.limit = pLimit(config.api.publicRoutes.dbConcurrency);
    this.queue = config.api.publicRoutes.queue;
  }

  /** Runs `work` in its turn, however long the wait. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return this.limit(work);
  }

  /** Runs `work` in its turn; false, without running it, when the queue is already full. */
  async runOrShed(route: SheddableRoute, work: () => Promise<unknown>): Promise<boolean> {
    if (this.limit.pendingCount >= this.queue) {
      this.metrics.publicShed.inc({ route });
      return false;
    }
    await this.limit(work);
    return true;
  }
}
