import { RedisKeys } from '@herald/queues';
import { HeraldMetrics } from '@herald/telemetry';
import {
  createTestDatabase,
  RedisServer,
  testRedisPrefix,
  testRedisUrl,
  type TestDatabase,
} from '@herald/testing';
import { ManualClock } from '@herald/time';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { QuotaService } from './quota.service';
import { ReservationConflictError, type QuotaAccount, type ReserveResult } from './quota.types';

async function connect(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    retryStrategy: () => 20,
  });
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
}

/** Unlike events.once, does not reject on the 'error' events a reconnecting client emits meanwhile. */
const next = (redis: Redis, event: 'close' | 'ready') =>
  new Promise<void>((resolve) => redis.once(event, () => resolve()));

const at = (iso: string) => Date.parse(iso);
let seq = 0;
const id = (label = 'r') => `${label}-${++seq}`;

describe('QuotaService', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let redis: Redis;
  const metrics = new HeraldMetrics();

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = new DataSource({ type: 'postgres', url: db.url, extra: { max: 8 } });
    await dataSource.initialize();
    redis = await connect(testRedisUrl());
  });
  afterAll(async () => {
    await redis.quit();
    await dataSource.destroy();
    await db.drop();
  });

  const service = (clock: ManualClock, client = redis, prefix = testRedisPrefix()) =>
    new QuotaService({ redis: client, keys: new RedisKeys(prefix), dataSource, clock, metrics });
  const account = (limits: QuotaAccount['limits'], timeZone = 'Europe/Paris'): QuotaAccount => ({
    id: id('acct'),
    timeZone,
    limits,
  });
  const drain = async (quota: QuotaService, acct: QuotaAccount, max = 10_000) => {
    let admitted = 0;
    let last: ReserveResult | undefined;
    for (; admitted < max; admitted++) {
      last = await quota.reserve({ account: acct, reservationId: id() });
      if (!last.admitted) break;
    }
    return { admitted, last };
  };

  describe('windows with a ManualClock', () => {
    it('denies at the hourly limit until the local hour ends, then admits again', async () => {
      const clock = new ManualClock(at('2026-01-14T14:42:00Z'));
      const quota = service(clock);
      const acct = account({ hour: 5, day: 100 });
      const { admitted, last } = await drain(quota, acct);
      expect(admitted).toBe(5);
      expect(last).toEqual({
        admitted: false,
        reason: 'quota',
        retryAt: at('2026-01-14T15:00:00Z'),
        exhausted: ['hour'],
      });
      clock.set(at('2026-01-14T14:59:59.999Z'));
      expect((await quota.reserve({ account: acct, reservationId: id() })).admitted).toBe(false);
      clock.set(at('2026-01-14T15:00:00Z'));
      expect((await drain(quota, acct)).admitted).toBe(5);
    });

    it('counts a day in the account zone: the daily window resets at local midnight, not UTC', async () => {
      // 23:30 in Paris is 22:30 UTC: the Paris day ends at 23:00 UTC.
      const clock = new ManualClock(at('2026-01-14T22:30:00Z'));
      const quota = service(clock);
      const acct = account({ day: 3 });
      const first = await drain(quota, acct);
      expect(first.admitted).toBe(3);
      expect(first.last).toMatchObject({ retryAt: at('2026-01-14T23:00:00Z'), exhausted: ['day'] });
      clock.set(at('2026-01-14T23:00:00Z'));
      expect((await drain(quota, acct)).admitted).toBe(3);
    });

    it('holds a weekly quota across days and resets on Monday 00:00 local', async () => {
      const clock = new ManualClock(at('2026-01-16T12:00:00Z')); // Friday
      const quota = service(clock, redis);
      const acct = account({ day: 4, week: 6 }, 'America/New_York');
      expect((await drain(quota, acct)).admitted).toBe(4);
      clock.set(at('2026-01-17T15:00:00Z')); // Saturday
      const saturday = await drain(quota, acct);
      expect(saturday.admitted).toBe(2);
      // Monday 2026-01-19 00:00 in New York is 05:00 UTC.
      expect(saturday.last).toMatchObject({ exhausted: ['week'], retryAt: at('2026-01-19T05:00:00Z') });
      clock.set(at('2026-01-19T05:00:00Z'));
      expect((await drain(quota, acct)).admitted).toBe(4);
    });

    it('names the latest reset when several windows are exhausted at once', async () => {
      const clock = new ManualClock(at('2026-01-14T10:15:00Z'));
      const quota = service(clock);
      const acct = account({ hour: 2, day: 2 }, 'UTC');
      const { last } = await drain(quota, acct);
      expect(last).toEqual({
        admitted: false,
        reason: 'quota',
        retryAt: at('2026-01-15T00:00:00Z'),
        exhausted: ['hour', 'day'],
      });
    });

    it('gives the New York fall-back day 25 hours and its repeated 01:00 hour two separate quotas', async () => {
      const clock = new ManualClock(at('2026-11-01T05:10:00Z')); // 01:10 EDT
      const quota = service(clock);
      const acct = account({ hour: 1, day: 10 }, 'America/New_York');
      expect((await drain(quota, acct)).admitted).toBe(1);
      clock.set(at('2026-11-01T06:10:00Z')); // 01:10 EST, the same wall-clock hour again
      const second = await drain(quota, acct);
      expect(second.admitted).toBe(1);
      expect(second.last).toMatchObject({ retryAt: at('2026-11-01T07:00:00Z') });
      // The day lasts until midnight EST: 05:00 UTC on Nov 2, 25 hours after it began.
      for (let h = 0; h < 8; h++) {
        clock.set(at('2026-11-01T08:00:00Z') + h * 3_600_000);
        await quota.reserve({ account: acct, reservationId: id() });
      }
      clock.set(at('2026-11-02T04:30:00Z'));
      const late = await quota.reserve({ account: acct, reservationId: id() });
      expect(late).toMatchObject({
        admitted: false,
        exhausted: ['day'],
        retryAt: at('2026-11-02T05:00:00Z'),
      });
    });

    it('gives the Paris spring-forward day 23 hours', async () => {
      const clock = new ManualClock(at('2026-03-29T21:30:00Z')); // 23:30 CEST
      const quota = service(clock);
      const acct = account({ day: 1 });
      expect((await drain(quota, acct)).last).toMatchObject({ retryAt: at('2026-03-29T22:00:00Z') });
    });
  });

  describe('reservations', () => {
    it('commit is final, refund gives units back exactly once, replays take nothing', async () => {
      const clock = new ManualClock(at('2026-02-02T09:00:00Z'));
      const quota = service(clock);
      const acct = account({ day: 2 });
      const a = await quota.reserve({ account: acct, reservationId: 'delivery-a:1' });
      const b = await quota.reserve({ account: acct, reservationId: 'delivery-b:1' });
      if (!a.admitted || !b.admitted) throw new Error('expected both admitted');
      expect(a.reservation).toMatchObject({
        id: 'delivery-a:1',
        units: 1,
        backend: 'redis',
        reservedAt: clock.nowMs(),
      });
      // A retried call with the same id is a replay, not a second unit.
      expect(await quota.reserve({ account: acct, reservationId: 'delivery-a:1' })).toMatchObject({
        admitted: true,
        replayed: true,
      });
      expect((await quota.reserve({ account: acct, reservationId: id() })).admitted).toBe(false);
      expect(await quota.commit(a.reservation)).toBe('committed');
      expect(await quota.commit(a.reservation)).toBe('already_committed');
      expect(await quota.refund(a.reservation)).toBe('committed');
      expect(await quota.refund(b.reservation)).toBe('refunded');
      expect(await quota.refund(b.reservation)).toBe('already_refunded');
      // Exactly one unit came back.
      expect((await drain(quota, acct)).admitted).toBe(1);
      await expect(quota.reserve({ account: acct, reservationId: 'delivery-b:1' })).rejects.toBeInstanceOf(
        ReservationConflictError,
      );
      expect(await quota.commit({ id: 'never-made', backend: 'redis' })).toBe('unknown');
    });

    it('commits and refunds a batch in one call each, with the same answers as one by one', async () => {
      const clock = new ManualClock(at('2026-02-02T09:00:00Z'));
      const quota = service(clock);
      const acct = account({ day: 4 });
      const runCap = { runId: id('run'), limit: 4 };
      const batch = await quota.reserveBatch({
        account: acct,
        reservationIds: ['m1', 'm2', 'm3', 'm4'],
        runCap,
      });
      const [m1, m2, m3, m4] = batch.admitted;
      if (!m1 || !m2 || !m3 || !m4) throw new Error('expected four admitted');
      expect(await quota.commit(m1)).toBe('committed');
      expect(await quota.refund(m2)).toBe('refunded');
      const never = { id: 'never-made', backend: 'redis' as const };
      expect(await quota.commitMany([m1, m2, m3, never])).toEqual([
        'already_committed',
        'refunded',
        'committed',
        'unknown',
      ]);
      expect(await quota.refundMany([m1, m2, m3, m4, never])).toEqual([
        'committed',
        'already_refunded',
        'committed',
        'refunded',
        'unknown',
      ]);
      expect(await quota.refundMany([m4])).toEqual(['already_refunded']);
      expect(await quota.commitMany([])).toEqual([]);
      // m2 and m4 came back to the day window and the run cap, once each.
      expect((await quota.usage(acct))[0]).toMatchObject({ used: 2, remaining: 2 });
      const again = await quota.reserveBatch({ account: acct, reservationIds: ['n1', 'n2', 'n3'], runCap });
      expect(again.admitted.map((r) => r.id)).toEqual(['n1', 'n2']);
      expect(await quota.pending(0)).toEqual([
        expect.objectContaining({ id: 'n1' }),
        expect.objectContaining({ id: 'n2' }),
      ]);
    });

    it('reserves several units at once, all or nothing', async () => {
      const quota = service(new ManualClock(at('2026-02-02T09:00:00Z')));
      const acct = account({ hour: 10 });
      expect((await quota.reserve({ account: acct, reservationId: id(), units: 7 })).admitted).toBe(true);
      expect((await quota.reserve({ account: acct, reservationId: id(), units: 4 })).admitted).toBe(false);
      expect((await quota.reserve({ account: acct, reservationId: id(), units: 3 })).admitted).toBe(true);
    });

    it('admits the longest prefix of a batch in one call', async () => {
      const quota = service(new ManualClock(at('2026-02-02T09:00:00Z')));
      const acct = account({ day: 25 });
      const first = await quota.reserveBatch({
        account: acct,
        reservationIds: ['x1', 'x2', 'x3', 'x4', 'x5'],
      });
      expect(first.admitted.map((r) => r.id)).toEqual(['x1', 'x2', 'x3', 'x4', 'x5']);
      const ids = Array.from({ length: 30 }, (_, i) => `y${i}`);
      const second = await quota.reserveBatch({ account: acct, reservationIds: ['x1', ...ids] });
      expect(second.replayed.map((r) => r.id)).toEqual(['x1']);
      expect(second.admitted).toHaveLength(20);
      expect(second.denied).toEqual(ids.slice(20));
      expect(second.denial).toMatchObject({ reason: 'quota', exhausted: ['day'] });
      const usage = await quota.usage(acct);
      expect(usage).toEqual([
        expect.objectContaining({
          unit: 'day',
          limit: 25,
          used: 25,
          remaining: 0,
          windowId: 'day:2026-02-02',
        }),
      ]);
    });

    it('enforces a per-run cap on top of the account windows, and refunds to it', async () => {
      const quota = service(new ManualClock(at('2026-02-02T09:00:00Z')));
      const acct = account({ day: 100 });
      const runCap = { runId: id('run'), limit: 3 };
      const results = [];
      for (let i = 0; i < 4; i++)
        results.push(await quota.reserve({ account: acct, reservationId: id(), runCap }));
      expect(results.map((r) => r.admitted)).toEqual([true, true, true, false]);
      expect(results[3]).toEqual({ admitted: false, reason: 'run_cap' });
      const first = results[0];
      if (!first?.admitted) throw new Error('expected admitted');
      expect(await quota.refund(first.reservation)).toBe('refunded');
      expect((await quota.reserve({ account: acct, reservationId: id(), runCap })).admitted).toBe(true);
      // Another run of the same account is not capped by this one.
      const other = await quota.reserve({
        account: acct,
        reservationId: id(),
        runCap: { runId: id('run'), limit: 3 },
      });
      expect(other.admitted).toBe(true);
    });

    it('lists reservations a crashed process left pending, for a reconciler to resolve', async () => {
      const clock = new ManualClock(at('2026-02-02T09:00:00Z'));
      const quota = service(clock);
      const acct = account({ day: 10 });
      const a = await quota.reserve({ account: acct, reservationId: 'crash-a:1' });
      const b = await quota.reserve({ account: acct, reservationId: 'crash-b:1' });
      if (!a.admitted || !b.admitted) throw new Error('expected admitted');
      await quota.commit(b.reservation);
      clock.advance(10 * 60_000);
      const pending = (await quota.pending(5 * 60_000)).filter((p) => p.id.startsWith('crash-'));
      expect(pending).toEqual([
        { id: 'crash-a:1', backend: 'redis', units: 1, reservedAt: a.reservation.reservedAt },
      ]);
      expect(await quota.refund({ id: 'crash-a:1', backend: 'redis' })).toBe('refunded');
      expect((await quota.pending(0)).filter((p) => p.id.startsWith('crash-'))).toEqual([]);
    });

    it('follows a raised limit at once', async () => {
      const quota = service(new ManualClock(at('2026-02-02T09:00:00Z')));
      const acct = account({ day: 2 });
      expect((await drain(quota, acct)).admitted).toBe(2);
      expect((await drain(quota, { ...acct, limits: { day: 5 } })).admitted).toBe(3);
      expect((await drain(quota, { ...acct, limits: { day: 4 } })).admitted).toBe(0);
    });

    it('counts decisions in herald_quota_decisions_total and shows remaining units', async () => {
      const value = async (decision: string) =>
        (await metrics.quotaDecisions.get()).values
          .filter((v) => v.labels.decision === decision)
          .reduce((sum, v) => sum + v.value, 0);
      const before = { admitted: await value('admitted'), denied: await value('denied') };
      const quota = service(new ManualClock(at('2026-02-02T09:00:00Z')));
      const acct = account({ hour: 3 });
      await drain(quota, acct);
      expect((await value('admitted')) - before.admitted).toBe(3);
      expect((await value('denied')) - before.denied).toBe(1);
      const remaining = (await metrics.quotaRemaining.get()).values.find((v) => v.labels.account === acct.id);
      expect(remaining).toMatchObject({ value: 0, labels: { window: 'hour' } });
    });
  });
});

describe('QuotaService when Redis goes away (Postgres fallback)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = new DataSource({ type: 'postgres', url: db.url, extra: { max: 8 } });
    await dataSource.initialize();
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  const reserveMany = async (quota: QuotaService, acct: QuotaAccount, n: number, label: string) => {
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        quota.reserve({ account: acct, reservationId: `${acct.id}.${label}-${i}` }),
      ),
    );
    return results.filter((r) => r.admitted).length;
  };

  it.each([
    ['keeps its data (AOF, graceful stop)', true],
    ['loses its data (no persistence, SIGKILL)', false],
  ])(
    'admits through Postgres while Redis is down and never exceeds the quota after it %s',
    async (_, persistent) => {
      const server = await RedisServer.start({ appendOnly: persistent });
      const redis = await connect(server.url);
      try {
        const clock = new ManualClock(at('2026-04-07T08:00:00Z'));
        const backends: string[] = [];
        const quota = new QuotaService({
          redis,
          keys: new RedisKeys(testRedisPrefix()),
          dataSource,
          clock,
          onBackendChange: (b) => backends.push(b),
        });
        const acct: QuotaAccount = {
          id: id('acct'),
          timeZone: 'Europe/Paris',
          limits: { hour: 100, day: 1000 },
        };

        const viaRedis = await reserveMany(quota, acct, 40, 'before');
        expect(viaRedis).toBe(40);
        expect(quota.backend).toBe('redis');

        const closed = next(redis, 'close');
        if (persistent) await server.stop();
        else await server.kill();
        await closed;

        const viaPostgres = await reserveMany(quota, acct, 50, 'during');
        expect(viaPostgres).toBe(50);
        expect(quota.backend).toBe('postgres');
        // Postgres refuses what Redis still holds on lease, so the total stays within 100.
        const overflow = await reserveMany(quota, acct, 20, 'overflow');
        expect(40 + viaPostgres + overflow).toBeLessThanOrEqual(100);

        const ready = next(redis, 'ready');
        await server.start();
        await ready;

        const after = await reserveMany(quota, acct, 50, 'after');
        const total = viaRedis + viaPostgres + overflow + after;
        expect(quota.backend).toBe('redis');
        expect(backends).toEqual(['redis', 'postgres', 'redis']);
        expect(total).toBeLessThanOrEqual(100);
        // A lease block (5 % of 100) can be stranded when Redis loses its data, never more.
        expect(total).toBeGreaterThanOrEqual(persistent ? 100 : 95);
        // And a fresh hour admits again, through Redis.
        clock.set(at('2026-04-07T09:00:00Z'));
        expect(await reserveMany(quota, acct, 3, 'next-hour')).toBe(3);
      } finally {
        redis.disconnect();
        await server.destroy();
      }
    },
  );

  it('refunds and commits a fallback reservation in Postgres, once', async () => {
    const server = await RedisServer.start();
    const redis = await connect(server.url);
    try {
      const quota = new QuotaService({
        redis,
        keys: new RedisKeys(testRedisPrefix()),
        dataSource,
        clock: new ManualClock(at('2026-04-07T08:00:00Z')),
      });
      const closed = next(redis, 'close');
      await server.kill();
      await closed;
      const acct: QuotaAccount = { id: id('acct'), timeZone: 'UTC', limits: { day: 2 } };
      const a = await quota.reserve({ account: acct, reservationId: 'pg-a:1' });
      const b = await quota.reserve({ account: acct, reservationId: 'pg-b:1' });
      if (!a.admitted || !b.admitted) throw new Error('expected admitted');
      expect(a.reservation.backend).toBe('postgres');
      expect(await quota.reserve({ account: acct, reservationId: 'pg-a:1' })).toMatchObject({
        replayed: true,
      });
      expect((await quota.reserve({ account: acct, reservationId: 'pg-c:1' })).admitted).toBe(false);
      expect(await quota.refund(a.reservation)).toBe('refunded');
      expect(await quota.refund(a.reservation)).toBe('already_refunded');
      expect(await quota.commit(b.reservation)).toBe('committed');
      expect(await quota.refund(b.reservation)).toBe('committed');
      expect((await quota.reserve({ account: acct, reservationId: 'pg-d:1' })).admitted).toBe(true);
      expect((await quota.reserve({ account: acct, reservationId: 'pg-e:1' })).admitted).toBe(false);
      // A Redis reservation cannot be settled while Redis is away: the reconciler retries later.
      expect(await quota.commit({ id: 'some-redis-one', backend: 'redis' })).toBe('unavailable');
      const pending = (await quota.pending(0)).filter((p) => p.id.startsWith('pg-'));
      expect(pending.map((p) => [p.id, p.backend])).toEqual([['pg-d:1', 'postgres']]);
    } finally {
      redis.disconnect();
      await server.destroy();
    }
  });
});

describe('QuotaService when Postgres refuses a lease', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let redis: Redis;
  let locker: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    // A lease that waits on a lock is cancelled by Postgres: a real refusal, quickly.
    dataSource = new DataSource({ type: 'postgres', url: db.url, extra: { max: 4, statement_timeout: 300 } });
    locker = new DataSource({ type: 'postgres', url: db.url, extra: { max: 1 } });
    await Promise.all([dataSource.initialize(), locker.initialize()]);
    redis = await connect(testRedisUrl());
  });
  afterAll(async () => {
    await redis.quit();
    await Promise.all([dataSource.destroy(), locker.destroy()]);
    await db.drop();
  });

  it('answers "unavailable" with the cause, not "quota", when Redis holds no units and cannot lease', async () => {
    const quota = new QuotaService({
      redis,
      keys: new RedisKeys(testRedisPrefix()),
      dataSource,
      clock: new ManualClock(at('2026-05-04T10:00:00Z')),
    });
    const acct: QuotaAccount = { id: id('acct'), timeZone: 'UTC', limits: { day: 100 } };
    const runner = locker.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await runner.query('LOCK TABLE quota_usage IN ACCESS EXCLUSIVE MODE');
      const refused = await quota.reserveBatch({ account: acct, reservationIds: ['lease-a:1', 'lease-b:1'] });
      expect(refused.admitted).toEqual([]);
      expect(refused.denied).toEqual(['lease-a:1', 'lease-b:1']);
      expect(refused.denial).toEqual({
        reason: 'unavailable',
        retryAt: at('2026-05-04T10:00:01Z'),
        cause: expect.stringMatching(/statement timeout/) as string,
      });
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    // Postgres is back: the same ids are admitted (a denied id was never taken).
    const admitted = await quota.reserveBatch({ account: acct, reservationIds: ['lease-a:1', 'lease-b:1'] });
    expect(admitted.admitted.map((r) => r.id)).toEqual(['lease-a:1', 'lease-b:1']);
  });
});
