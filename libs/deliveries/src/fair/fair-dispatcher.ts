import { Inject, Injectable } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { JobProducer, REDIS, RedisKeys } from '@herald/queues';
import { HeraldLogger } from '@herald/telemetry';
import type { Redis } from 'ioredis';
import { FairQueue, type DispatchedPage } from './fair-queue';

/** Deliveries per send page: the unit of a tenant's turn (a tenant of weight w sends w pages a turn). */
export const SEND_PAGE = 100;
/**
 * Pages in the `deliveries` queue per live worker beyond what fills its pipeline
 * (QUEUE_CONCURRENCY_DELIVERIES in flight): one, so the pipeline never waits for a dispatch, and
 * no more, so a tenant arriving finds little of others' work ahead of its first page.
 */
const SPARE_PAGES_PER_WORKER = 1;
/** A page in flight this long is checked against its job: taken but never added (a crash), or done. */
const OVERDUE_MS = 10_000;

/**
 * Moves pages from the fair queue to the `deliveries` queue, in DRR order, keeping at most a
 * window of pages in flight fleet-wide: the shared bound no tenant can fill with a backlog. Run
 * after every push and every page done, and on a timer by each worker as the safety net. A page
 * taken is in flight before its job exists; a crash between the two leaves it `overdue`, and
 * the next check adds its job (same id: a job added twice is one job).
 */
@Injectable()
export class FairDispatcher {
  private running: Promise<void> | undefined;
  private again = false;
  private windowCache: { value: number; at: number } | undefined;

  constructor(
    private readonly fair: FairQueue,
    private readonly producer: JobProducer,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    private readonly logger: HeraldLogger,
  ) {}

  /** Fills the window. Calls while one runs coalesce into one more pass after it. */
  pump(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.dispatchOnce();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** A page's work is done (or given up): frees its slot and fills it. Never throws: `reap` covers a lost ack. */
  async done(pageIds: readonly string[]): Promise<void> {
    try {
      await this.fair.ack(pageIds);
      await this.pump();
    } catch (error) {
      this.logger.warn(
        { err: { message: (error as Error).message } },
        'fair queue ack failed; the reaper retries',
      );
    }
  }

  /**
   * The safety net for pages in flight past OVERDUE_MS: no job (taken, then a crash before the
   * add) → added again; job completed or failed for good → slot freed; otherwise still working.
   */
  async reap(now = Date.now()): Promise<number> {
    const overdue = await this.fair.overdue(now - OVERDUE_MS, 200);
    if (overdue.length === 0) return 0;
    const queue = this.producer.queue('deliveries');
    const states = await Promise.all(overdue.map((p) => queue.getJobState(p.id)));
    const missing: DispatchedPage[] = [];
    const finished: string[] = [];
    const alive: string[] = [];
    overdue.forEach((p, i) => {
      const state = states[i];
      if (state === 'unknown') missing.push(p);
      else if (state === 'completed' || state === 'failed') finished.push(p.id);
      else alive.push(p.id);
    });
    if (missing.length > 0) {
      await this.producer.enqueueBulk(
        'deliveries.page',
        missing.map((p) => p.payload),
      );
      this.logger.info({ count: missing.length }, 'fair queue pages re-dispatched');
    }
    await this.fair.touch([...alive, ...missing.map((p) => p.id)], now);
    await this.fair.ack(finished);
    return missing.length + finished.length;
  }

  private async dispatchOnce(): Promise<void> {
    const pages = await this.fair.take(await this.window(), SEND_PAGE);
    if (pages.length === 0) return;
    await this.producer.enqueueBulk(
      'deliveries.page',
      pages.map((p) => p.payload),
    );
  }

  /** Pages in flight fleet-wide: per live worker (fresh heartbeats), enough to keep it busy. */
  async window(now = Date.now()): Promise<number> {
    if (this.windowCache && now - this.windowCache.at < 1000) return this.windowCache.value;
    const workers = await this.redis.zcount(
      this.keys.key('workers', 'seen'),
      now - this.config.telemetry.heartbeatMaxAgeMs,
      '+inf',
    );
    const perWorker =
      Math.ceil(this.config.queues.concurrency.deliveries / SEND_PAGE) + SPARE_PAGES_PER_WORKER;
    const value = Math.max(1, workers) * perWorker;
    this.windowCache = { value, at: now };
    return value;
  }
}
