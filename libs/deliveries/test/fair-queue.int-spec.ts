import { RedisKeys } from '@herald/queues';
import { testRedisPrefix, testRedisUrl } from '@herald/testing';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { FairQueue, pageId, type PagePayload } from '../src';

const UNIT = 100;

/**
 * The deficit-round-robin scheduler of the fair queue, on a real Redis (the Lua that runs in
 * production): weights, deficits carried between turns, tenants joining and leaving, empty
 * tenants, the window, and what a repeated push or a lost dispatch leaves behind.
 */
describe('fair queue (DRR over tenants, Redis Lua)', () => {
  let redis: Redis;
  let keys: RedisKeys;
  let fair: FairQueue;

  beforeAll(() => {
    redis = new Redis(testRedisUrl());
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    keys = new RedisKeys(testRedisPrefix());
    fair = new FairQueue(redis, keys);
  });

  const pages = (tenant: string, count: number, size = UNIT): PagePayload[] =>
    Array.from({ length: count }, () => ({
      tenant_id: tenant,
      run_id: randomUUID(),
      delivery_ids: Array.from({ length: size }, () => randomUUID()),
    }));
  /** Takes one page at a time (window 1, acked each time): the order the fleet would send in. */
  const order = async (n: number): Promise<string[]> => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const [page] = await fair.take(1, UNIT);
      if (!page) break;
      out.push(page.payload.tenant_id);
      await fair.ack([page.id]);
    }
    return out;
  };

  it('serves a tenant that arrives at once, then page for page with one of equal weight, however many pages that one queued', async () => {
    await fair.push('A', 1, pages('A', 50), UNIT);
    expect(await order(2)).toEqual(['A', 'A']);
    await fair.push('B', 1, pages('B', 10), UNIT);
    // B joins at the head with one quantum, then takes its turns.
    expect(await order(8)).toEqual(['B', 'B', 'A', 'B', 'A', 'B', 'A', 'B']);
  });

  it('gives a tenant of weight 3 three pages a turn to one of weight 1', async () => {
    await fair.push('heavy', 3, pages('heavy', 12), UNIT);
    await fair.push('light', 1, pages('light', 4), UNIT);
    const served = await order(16);
    // The light tenant arrived last: its first page goes at once, then three heavy pages per light one.
    expect(served.slice(0, 9)).toEqual([
      'light',
      'heavy',
      'heavy',
      'heavy',
      'light',
      'heavy',
      'heavy',
      'heavy',
      'light',
    ]);
    expect(served.filter((t) => t === 'heavy')).toHaveLength(12);
  });

  it('counts deliveries, not pages: small pages carry their deficit over and get the same share', async () => {
    await fair.push('big', 1, pages('big', 10, 100), UNIT);
    await fair.push('small', 1, pages('small', 40, 30), UNIT);
    const sent = { big: 0, small: 0 };
    for (let i = 0; i < 24; i++) {
      const [page] = await fair.take(1, UNIT);
      sent[page!.payload.tenant_id as 'big' | 'small'] += page!.payload.delivery_ids.length;
      await fair.ack([page!.id]);
    }
    // Quantum 100 a turn each: the small tenant takes 3 pages (90) and banks 10, then 4 (120)...
    expect(Math.abs(sent.big - sent.small)).toBeLessThanOrEqual(UNIT);
    expect(sent.small).toBeGreaterThan(400);
  });

  it('drops an emptied tenant from the ring with its deficit; back, it rejoins with one quantum only', async () => {
    await fair.push('A', 1, pages('A', 1), UNIT);
    await fair.push('B', 1, pages('B', 5), UNIT);
    expect(await order(3)).toEqual(['B', 'A', 'B']);
    expect(await redis.hget(keys.key('fair', 'deficit'), 'A')).toBeNull();
    expect(await redis.lrange(keys.key('fair', 'ring'), 0, -1)).toEqual(['B']);
    await fair.push('A', 1, pages('A', 2), UNIT);
    expect(await order(5)).toEqual(['A', 'A', 'B', 'B', 'B']);
    expect(await order(1)).toEqual([]);
    expect(await fair.stats()).toEqual({
      activeTenants: 0,
      queuedDeliveries: 0,
      largestBacklog: 0,
      inFlight: 0,
    });
    expect(await redis.hlen(keys.key('fair', 'deficit'))).toBe(0);
  });

  it('takes nothing from an empty queue', async () => {
    expect(await fair.take(10, UNIT)).toEqual([]);
  });

  it('keeps at most the window in flight; an ack frees a slot', async () => {
    await fair.push('A', 1, pages('A', 5), UNIT);
    const first = await fair.take(3, UNIT);
    expect(first).toHaveLength(3);
    expect(await fair.take(3, UNIT)).toEqual([]);
    await fair.ack([first[0]!.id]);
    expect(await fair.take(3, UNIT)).toHaveLength(1);
    expect((await fair.stats()).inFlight).toBe(3);
    expect(await fair.backlog('A')).toBe(UNIT);
  });

  it('drops a page pushed again while it is queued or in flight (a repeated fan-out page)', async () => {
    const [page, other] = pages('A', 2) as [PagePayload, PagePayload];
    expect(await fair.push('A', 1, [page], UNIT)).toBe(UNIT);
    expect(await fair.push('A', 1, [page, other], UNIT)).toBe(2 * UNIT);
    const [taken] = await fair.take(1, UNIT);
    expect(taken!.id).toBe(pageId(page));
    expect(await fair.push('A', 1, [page], UNIT)).toBe(UNIT); // in flight: still known
    await fair.ack([taken!.id]);
    expect((await fair.take(5, UNIT)).map((p) => p.id)).toEqual([pageId(other)]);
  });

  it('finds pages taken long ago and not acked (a dispatcher that died before adding the job)', async () => {
    await fair.push('A', 1, pages('A', 2), UNIT);
    const t0 = Date.now();
    const taken = await fair.take(2, UNIT, t0);
    expect(await fair.overdue(t0 - 1, 10)).toEqual([]);
    const overdue = await fair.overdue(t0 + 1, 10);
    expect(overdue.map((p) => p.id).sort()).toEqual(taken.map((p) => p.id).sort());
    expect(overdue[0]!.payload.delivery_ids).toHaveLength(UNIT);
    await fair.touch([overdue[0]!.id], t0 + 5000);
    expect(await fair.overdue(t0 + 1, 10)).toHaveLength(1);
  });
});
