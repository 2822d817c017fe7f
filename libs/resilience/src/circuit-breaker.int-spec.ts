import { RedisKeys } from '@herald/queues';
import { HeraldMetrics } from '@herald/telemetry';
import { RedisServer, testRedisPrefix, testRedisUrl } from '@herald/testing';
import { ManualClock } from '@herald/time';
import { Redis } from 'ioredis';
import { CircuitBreaker, type CircuitKey } from './circuit-breaker';

/** Like the app's REDIS client: fails fast while disconnected instead of queueing commands. */
async function client(url: string): Promise<Redis> {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
}

describe('CircuitBreaker (real Redis)', () => {
  let redis: Redis;
  let clock: ManualClock;
  let breaker: CircuitBreaker;
  let metrics: HeraldMetrics;
  let n = 0;
  let key: CircuitKey;

  beforeAll(async () => {
    redis = await client(testRedisUrl());
    metrics = new HeraldMetrics();
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    clock = new ManualClock('2026-06-01T12:00:00Z');
    breaker = new CircuitBreaker({ redis, keys: new RedisKeys(testRedisPrefix()), clock, metrics });
    key = { channel: 'smtp', account: `acct-${++n}` };
  });

  const fail = (times: number) =>
    Promise.all(Array.from({ length: times }, () => breaker.recordFailure(key)));

  it('stays closed after 2 consecutive failures and opens on exactly the 3rd', async () => {
    await breaker.recordFailure(key);
    await breaker.recordFailure(key);
    expect(await breaker.acquire(key)).toEqual({ allowed: true, probe: false });
    const third = await breaker.recordFailure(key);
    expect(third).toEqual({ state: 'open', openUntil: clock.nowMs() + 1000 });
    expect(await breaker.acquire(key)).toEqual({ allowed: false, retryAt: clock.nowMs() + 1000 });
    const state = await metrics.circuitState.get();
    expect(state.values.find((v) => v.labels.account === key.account)?.value).toBe(2);
  });

  it('a success in between resets the count of consecutive failures', async () => {
    await fail(2);
    await breaker.recordSuccess(key);
    await fail(2);
    expect((await breaker.get(key)).state).toBe('closed');
    await breaker.recordFailure(key);
    expect((await breaker.get(key)).state).toBe('open');
  });

  it('gives exactly one half-open probe among 50 concurrent acquirers; the others wait until the probe lease ends', async () => {
    await fail(3);
    clock.advance(1000);
    const results = await Promise.all(Array.from({ length: 50 }, () => breaker.acquire(key)));
    const probes = results.filter((r) => r.allowed && r.probe);
    const waiting = results.filter((r) => !r.allowed);
    expect(probes).toHaveLength(1);
    expect(waiting).toHaveLength(49);
    expect(new Set(waiting.map((r) => (r.allowed ? 0 : r.retryAt)))).toEqual(
      new Set([clock.nowMs() + 30_000]),
    );
    expect((await breaker.get(key)).state).toBe('half_open');
  });

  it('a probe success closes the circuit and resets the backoff', async () => {
    await fail(3);
    clock.advance(1000);
    expect(await breaker.acquire(key)).toEqual({ allowed: true, probe: true });
    await breaker.recordSuccess(key);
    expect(await breaker.acquire(key)).toEqual({ allowed: true, probe: false });
    await fail(3);
    expect((await breaker.get(key)).openUntil - clock.nowMs()).toBe(1000);
  });

  it('doubles the open period on every failed probe, capped at 60 s', async () => {
    await fail(3);
    const periods: number[] = [];
    for (let i = 0; i < 9; i++) {
      const { openUntil } = await breaker.get(key);
      periods.push(openUntil - clock.nowMs());
      clock.set(openUntil - 1);
      expect((await breaker.acquire(key)).allowed).toBe(false);
      clock.set(openUntil);
      expect(await breaker.acquire(key)).toEqual({ allowed: true, probe: true });
      await breaker.recordFailure(key);
    }
    expect(periods).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it('hands the probe to another caller when the probe holder never reports back', async () => {
    await fail(3);
    clock.advance(1000);
    expect((await breaker.acquire(key)).allowed).toBe(true);
    clock.advance(29_999);
    expect((await breaker.acquire(key)).allowed).toBe(false);
    clock.advance(1);
    expect(await breaker.acquire(key)).toEqual({ allowed: true, probe: true });
  });

  it('forceOpen and forceClose override the state and show up in list()', async () => {
    const { openUntil } = await breaker.forceOpen(key, 5000);
    expect(openUntil).toBe(clock.nowMs() + 5000);
    expect(await breaker.acquire(key)).toEqual({ allowed: false, retryAt: openUntil });
    const listed = await breaker.list();
    expect(listed.map((c) => [c.key, c.state])).toEqual([[key, 'open']]);
    await breaker.forceClose(key);
    expect(await breaker.acquire(key)).toEqual({ allowed: true, probe: false });
    expect((await breaker.list()).map((c) => c.state)).toEqual(['closed']);
    const transitions = await metrics.circuitTransitions.get();
    expect(transitions.values.some((v) => v.labels.to === 'open')).toBe(true);
  });

  it('shares state across processes: a second breaker instance sees the first one open the circuit', async () => {
    const prefix = testRedisPrefix();
    const other = await client(testRedisUrl());
    try {
      const a = new CircuitBreaker({ redis, keys: new RedisKeys(prefix), clock });
      const b = new CircuitBreaker({ redis: other, keys: new RedisKeys(prefix), clock });
      await a.recordFailure(key);
      await b.recordFailure(key);
      await a.recordFailure(key);
      expect((await b.acquire(key)).allowed).toBe(false);
    } finally {
      await other.quit();
    }
  });
});

describe('CircuitBreaker while Redis is unreachable', () => {
  it('falls back to a process-local breaker with the same rules, and reports it', async () => {
    const server = await RedisServer.start();
    const redis = await client(server.url);
    try {
      const clock = new ManualClock('2026-06-01T12:00:00Z');
      const fallbacks: string[] = [];
      const breaker = new CircuitBreaker({
        redis,
        keys: new RedisKeys(testRedisPrefix()),
        clock,
        onFallback: (e) => fallbacks.push(e.message),
      });
      const key = { channel: 'webhook', account: 'a1' };
      const closed = new Promise((resolve) => redis.once('close', resolve));
      await server.stop();
      await closed;
      expect(await breaker.acquire(key)).toEqual({ allowed: true, probe: false });
      for (let i = 0; i < 3; i++) await breaker.recordFailure(key);
      expect(await breaker.acquire(key)).toEqual({ allowed: false, retryAt: clock.nowMs() + 1000 });
      clock.advance(1000);
      expect(await breaker.acquire(key)).toEqual({ allowed: true, probe: true });
      expect(fallbacks.length).toBeGreaterThanOrEqual(6);
    } finally {
      redis.disconnect();
      await server.destroy();
    }
  });
});
