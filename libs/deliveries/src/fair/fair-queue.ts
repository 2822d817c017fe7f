import { Inject, Injectable } from '@nestjs/common';
import { JOBS, REDIS, RedisKeys, type JobPayloads } from '@herald/queues';
import type { Redis } from 'ioredis';
import { ACK, PUSH, TAKE } from './fair-scripts';

export type PagePayload = JobPayloads['deliveries.page'];

/** A page the dispatcher took: its job id (the page's deterministic id) and payload. */
export interface DispatchedPage {
  id: string;
  payload: PagePayload;
}

export interface FairQueueStats {
  /** Tenants with pages waiting for a turn. */
  activeTenants: number;
  /** Deliveries waiting for a turn, all tenants together. */
  queuedDeliveries: number;
  /** The largest one tenant has waiting (no tenant label: that would be one series per tenant). */
  largestBacklog: number;
  /** Pages dispatched to the `deliveries` queue and not yet done: what holds the shared window. */
  inFlight: number;
}

/** The deterministic id of a page: also its job id, so a page re-dispatched is one job. */
export function pageId(payload: PagePayload): string {
  return JOBS['deliveries.page'].jobId(payload);
}

/**
 * Per-tenant queues of send pages in Redis, served by deficit round robin (the Lua in
 * fair-scripts.ts does each step atomically, so any number of dispatchers can share it). A page
 * stays known (its payload kept) from push until ack: a page pushed again meanwhile (a repeated
 * fan-out page) is dropped, and one taken but never turned into a job can be found and
 * re-dispatched (`overdue`).
 */
@Injectable()
export class FairQueue {
  private readonly k: Record<'ring' | 'pages' | 'weight' | 'backlog' | 'deficit' | 'inflight', string>;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    keys: RedisKeys,
  ) {
    const key = (name: string) => keys.key('fair', name);
    this.k = {
      ring: key('ring'),
      pages: key('pages'),
      weight: key('weight'),
      backlog: key('backlog'),
      deficit: key('deficit'),
      inflight: key('inflight'),
    };
  }

  /**
   * Queues a tenant's pages (those not already known); answers its backlog, in deliveries.
   * `unit`: the quantum of weight 1, as for `take`.
   */
  async push(tenantId: string, weight: number, pages: readonly PagePayload[], unit: number): Promise<number> {
    const args: (string | number)[] = [tenantId, weight, unit];
    for (const p of pages) args.push(pageId(p), p.delivery_ids.length, JSON.stringify(p));
    const backlog = await PUSH.run(
      this.redis,
      [this.k.ring, this.k.pages, this.k.weight, this.k.backlog, this.k.deficit],
      args,
    );
    return Number(backlog);
  }

  /** Deliveries of the tenant waiting for a turn. */
  async backlog(tenantId: string): Promise<number> {
    return Number((await this.redis.hget(this.k.backlog, tenantId)) ?? 0);
  }

  /**
   * Takes pages in DRR order until `window` pages are in flight; `unit` is the quantum of weight 1
   * in deliveries (at least the largest page).
   */
  async take(window: number, unit: number, now = Date.now()): Promise<DispatchedPage[]> {
    const taken = (await TAKE.run(
      this.redis,
      [this.k.ring, this.k.pages, this.k.weight, this.k.backlog, this.k.deficit, this.k.inflight],
      [window, now, unit],
    )) as string[];
    return taken.map(parseEntry);
  }

  /** The pages' work is done or given up: their window slots free. */
  async ack(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await ACK.run(this.redis, [this.k.pages, this.k.inflight], ids);
  }

  /** In-flight pages dispatched before `before` (ms), oldest first, with their payloads. */
  async overdue(before: number, limit: number): Promise<DispatchedPage[]> {
    const ids = await this.redis.zrangebyscore(this.k.inflight, '-inf', before, 'LIMIT', 0, limit);
    if (ids.length === 0) return [];
    const values = await this.redis.hmget(this.k.pages, ...ids);
    const pages: DispatchedPage[] = [];
    ids.forEach((id, i) => {
      const value = values[i];
      if (value) pages.push(parseEntry(`${id}|${value}`));
    });
    // Ids without a payload cannot be re-dispatched: free their slots.
    const orphans = ids.filter((_, i) => !values[i]);
    if (orphans.length > 0) await this.redis.zrem(this.k.inflight, ...orphans);
    return pages;
  }

  /** Marks in-flight pages as seen alive now, so the next overdue check skips them. */
  async touch(ids: readonly string[], now = Date.now()): Promise<void> {
    if (ids.length === 0) return;
    await this.redis.zadd(this.k.inflight, 'XX', ...ids.flatMap((id) => [now, id]));
  }

  async stats(): Promise<FairQueueStats> {
    const [activeTenants, inFlight, backlogs] = await Promise.all([
      this.redis.llen(this.k.ring),
      this.redis.zcard(this.k.inflight),
      this.redis.hvals(this.k.backlog),
    ]);
    const values = backlogs.map(Number);
    return {
      activeTenants,
      inFlight,
      queuedDeliveries: values.reduce((a, b) => a + b, 0),
      largestBacklog: values.length > 0 ? Math.max(...values) : 0,
    };
  }
}

function parseEntry(entry: string): DispatchedPage {
  const first = entry.indexOf('|');
  const second = entry.indexOf('|', first + 1);
  return { id: entry.slice(0, first), payload: JSON.parse(entry.slice(second + 1)) as PagePayload };
}
