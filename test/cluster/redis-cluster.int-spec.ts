import {
  isCluster,
  JobProducer,
  REDIS,
  RedisKeys,
  RedisScript,
  HeartbeatPublisher,
  HeartbeatReader,
} from '@herald/queues';
import type { RedisClient } from '@herald/queues';
import { FairQueue } from '@herald/deliveries';
import { QuotaService } from '@herald/rate-limit';
import { CircuitBreaker } from '@herald/resilience';
import { HeraldLogger, HeraldMetrics, ReadinessService } from '@herald/telemetry';
import { eventually, RedisCluster, TEST_ADMIN_KEY } from '@herald/testing';
import type { Redis } from 'ioredis';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join, relative } from 'node:path';
import { LeaderLease } from '../../apps/beat/src/leader-lease';
import { TestApi } from '../support/api-app';

const ROOT = join(__dirname, '..', '..');

/** Non-test TypeScript sources under apps/ and libs/. */
function sources(dir = ROOT, found: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (dir === ROOT && name !== 'apps' && name !== 'libs') continue;
      if (name === 'test') continue;
      sources(path, found);
    } else if (/\.ts$/.test(name) && !/\.(spec|int-spec|e2e-spec|d)\.ts$/.test(name)) {
      found.push(path);
    }
  }
  return found;
}

/**
 * Lua run with raw EVAL outside RedisScript, each exercised below through the API it serves.
 * A new raw EVAL site fails the last test until it is added here with a test (or uses RedisScript).
 */
const RAW_EVAL_SITES = [
  'apps/api/src/http/auth-throttle.ts',
  'apps/api/src/http/import-concurrency.ts',
  'apps/api/src/http/rate-limit.middleware.ts',
];

/**
 * Everything Herald keeps in Redis, on a 3-master Redis Cluster on loopback: the api's clients,
 * the queues, Bull Board, the queue depth collector, worker heartbeats, the quota, the
 * breakers, the beat lease and the API's limits. Each Lua script must run on the cluster
 * (CROSSSLOT would fail it), and every key must sit on the one node serving Herald's slot.
 */
describe('Herald on a 3-master Redis Cluster', () => {
  let cluster: RedisCluster;
  let api: TestApi;
  let redis: RedisClient;
  let keys: RedisKeys;
  let owner: Redis;
  let tenant: { id: string; key: string; keyId: string };

  /** Every SHA the node serving Herald's slot has in its script cache, of those asked. */
  const cachedOnOwner = async (shas: readonly string[]) => {
    const exists = (await owner.script('EXISTS', ...shas)) as number[];
    return shas.filter((_, i) => exists[i] === 1);
  };

  beforeAll(async () => {
    cluster = await RedisCluster.start();
    api = await TestApi.start(
      {
        ...cluster.env(),
        AUTH_FAILURE_LIMIT_PER_ADDRESS: '3',
        AUTH_FAILURE_WINDOW_MS: '60000',
        API_RATE_LIMIT_PER_SECOND: '1',
        API_RATE_LIMIT_BURST: '30',
        BEAT_LEASE_TTL_MS: '2000',
        BEAT_LEASE_RENEW_MS: '200',
      },
      { opsListener: true },
    );
    redis = api.app.get<RedisClient>(REDIS);
    keys = api.app.get(RedisKeys);
    const server = await cluster.serverFor(keys.key('any'));
    const { Redis } = await import('ioredis');
    owner = new Redis({ host: '127.0.0.1', port: server.port });
    tenant = await api.createTenant('Cluster');
  });
  afterAll(async () => {
    owner?.disconnect();
    await api?.close();
    await cluster?.destroy();
  });

  it('connects every client as a cluster client and reports ready', async () => {
    expect(isCluster(redis)).toBe(true);
    const ready = await fetch(`${api.opsUrl!}/ready`);
    const body = (await ready.json()) as { components?: Record<string, { status?: string }> };
    expect({ status: ready.status, redis: body.components?.redis?.status }).toEqual({
      status: 200,
      redis: 'up',
    });
  });

  // The api consumes no queue: the job stays waiting.
  it('queues jobs on the cluster; the depth collector and Redis memory read them at scrape time', async () => {
    const producer = api.app.get(JobProducer);
    await producer.enqueue('system.ping', { ping_id: 'cluster-1', hold_ms: 0 });
    const metrics = await (await fetch(`${api.opsUrl!}/metrics`)).text();
    expect(metrics).toMatch(/^herald_queue_jobs\{queue="system",state="waiting"\} 1$/m);
    const used = /^herald_redis_memory_used_bytes (\d+)/m.exec(metrics);
    expect(Number(used?.[1])).toBeGreaterThan(0);
  });

  it('serves Bull Board from the cluster', async () => {
    const res = await fetch(`${api.url}/admin/queues/api/queues?activeQueue=system`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
    });
    const body = (await res.json()) as { queues: { name: string; counts: Record<string, number> }[] };
    expect(res.status).toBe(200);
    expect(body.queues.map((q) => q.name)).toEqual(expect.arrayContaining(['system', 'deliveries', 'runs']));
  });

  it('publishes and reads worker heartbeats (MULTI over two keys of one slot)', async () => {
    const publisher = api.app.get(HeartbeatPublisher);
    publisher.consuming(['deliveries']);
    await publisher.beat();
    const alive = await api.app.get(HeartbeatReader).alive();
    expect(alive.map((w) => w.id)).toContain(publisher.id);
  });

  it('runs the quota scripts: reserve, lease grant, commit, refund, pending, usage', async () => {
    const quota = api.app.get(QuotaService);
    const account = { id: `acct-${Date.now()}`, timeZone: 'Europe/Paris', limits: { hour: 3, day: 10 } };
    const runCap = { runId: `run-${Date.now()}`, limit: 2 };
    const first = await quota.reserve({ account, reservationId: 'r1', runCap });
    const second = await quota.reserve({ account, reservationId: 'r2', runCap });
    const third = await quota.reserve({ account, reservationId: 'r3', runCap });
    expect([first.admitted, second.admitted, third]).toEqual([
      true,
      true,
      { admitted: false, reason: 'run_cap' },
    ]);
    if (!first.admitted || !second.admitted) throw new Error('unreachable');
    expect(first.reservation.backend).toBe('redis');
    expect(await quota.pending(-60_000)).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: 'r1' }), expect.objectContaining({ id: 'r2' })]),
    );
    expect(await quota.commit(first.reservation)).toBe('committed');
    expect(await quota.refund(second.reservation)).toBe('refunded');
    const usage = await quota.usage(account);
    expect(usage.find((w) => w.unit === 'hour')).toMatchObject({ used: 1, limit: 3 });

    // A batch's settle: one call commits (or refunds) many reservations.
    const batchAccount = { id: `acct-batch-${Date.now()}`, timeZone: 'UTC', limits: { hour: 10 } };
    const batch = [];
    for (const id of ['m1', 'm2', 'm3']) {
      const r = await quota.reserve({ account: batchAccount, reservationId: id });
      if (!r.admitted) throw new Error(`reservation ${id} refused: ${r.reason}`);
      batch.push(r.reservation);
    }
    expect(await quota.commitMany(batch.slice(0, 2))).toEqual(['committed', 'committed']);
    expect(await quota.refundMany(batch.slice(2))).toEqual(['refunded']);
    expect((await quota.usage(batchAccount)).find((w) => w.unit === 'hour')).toMatchObject({ used: 2 });
  });

  it('runs the fair queue scripts: push, take by deficit round robin, ack', async () => {
    const fair = api.app.get(FairQueue);
    const tenant = randomUUID();
    const page = (n: number) => ({
      tenant_id: tenant,
      run_id: randomUUID(),
      delivery_ids: Array.from({ length: n }, () => randomUUID()),
    });
    expect(await fair.push(tenant, 1, [page(2), page(3)], 100)).toBe(5);
    const taken = await fair.take(10, 100);
    expect(taken.map((p) => p.payload.tenant_id)).toEqual([tenant, tenant]);
    await fair.ack(taken.map((p) => p.id));
    expect(await fair.take(10, 100)).toEqual([]);
  });

  it('runs the breaker scripts: failures open it, acquire is refused, force and success close it', async () => {
    const breaker = api.app.get(CircuitBreaker);
    const key = { channel: 'smtp', account: `acct-${Date.now()}` };
    for (let i = 0; i < 3; i++) await breaker.recordFailure(key);
    expect((await breaker.get(key)).state).toBe('open');
    expect((await breaker.acquire(key)).allowed).toBe(false);
    await breaker.forceClose(key);
    expect((await breaker.acquire(key)).allowed).toBe(true);
    await breaker.recordFailure(key);
    await breaker.recordSuccess(key);
    expect(await breaker.get(key)).toMatchObject({ state: 'closed', failures: 0 });
    expect((await breaker.list()).map((c) => c.key)).toContainEqual(key);
  });

  it('runs the beat lease scripts: acquire, renew, release', async () => {
    const lease = new LeaderLease(
      redis,
      keys,
      api.config,
      api.app.get(HeraldMetrics),
      api.app.get(HeraldLogger),
      api.app.get(ReadinessService),
    );
    lease.onApplicationBootstrap();
    try {
      await eventually(() => Promise.resolve(lease.isLeader()), { what: 'lease acquired' });
      const token = lease.state().fencing_token;
      // Leadership outlives several renewals only if RENEW runs (TTL 2 s, renew every 200 ms).
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(lease.state()).toMatchObject({ leader: true, fencing_token: token });
    } finally {
      await lease.onApplicationShutdown();
    }
    expect(await redis.exists(keys.key('beat', 'leader'))).toBe(0);
  });

  it('keeps the API limits on the cluster: rate limit, auth lockout, import concurrency, key revocation', async () => {
    // Import: the per-tenant concurrency lease is taken and released around the request.
    const imported = await api.request('POST', '/v1/contacts/import', {
      key: tenant.key,
      body: [{ email: 'one@example.com' }],
    });
    expect(imported.status).toBe(200);
    expect(await redis.zcard(keys.key('imports', tenant.id))).toBe(0);

    // Auth lockout: 3 failures from one address, then 429 even with a correct key.
    const from = (key: string) =>
      api.request('GET', '/v1/contacts', { key, headers: { 'x-forwarded-for': '198.51.100.7' } });
    for (let i = 0; i < 3; i++) expect((await from(`${tenant.key}x`)).status).toBe(401);
    expect((await from(tenant.key)).status).toBe(429);

    // Revocation reaches the api through its Redis marker.
    const second = await api.request<{ id: string; key: string }>('POST', '/v1/api-keys', {
      key: tenant.key,
      body: { name: 'second', scopes: ['read', 'write'] },
    });
    expect(second.status).toBe(201);
    expect((await api.request('GET', '/v1/contacts', { key: second.body.key })).status).toBe(200);
    expect((await api.request('DELETE', `/v1/api-keys/${second.body.id}`, { key: tenant.key })).status).toBe(
      204,
    );
    expect((await api.request('GET', '/v1/contacts', { key: second.body.key })).status).toBe(401);

    // Token bucket: a burst of 30, then 429 (refill 1/s).
    const statuses: number[] = [];
    for (let i = 0; i < 35; i++)
      statuses.push((await api.request('GET', '/v1/contacts', { key: tenant.key })).status);
    expect(statuses).toContain(429);
  });

  it('ran every Lua script on the one node serving the Herald slot, and keeps every key there', async () => {
    // Every `new RedisScript(` in the sources is loaded (the api module graph plus the beat lease)…
    const files = sources();
    const declared = files
      .map((f) => readFileSync(f, 'utf8').match(/new RedisScript\(/g)?.length ?? 0)
      .reduce((a, b) => a + b, 0);
    expect(RedisScript.defined.size).toBe(declared);
    // …and each ran against the cluster, on the node holding Herald's slot.
    const shas = [...RedisScript.defined].map((s) => s.sha);
    expect(await cachedOnOwner(shas)).toEqual(shas);
    // Raw EVAL sites outside RedisScript are the known ones, exercised by the API test above.
    const raw = files
      .filter((f) => !f.endsWith('redis-script.ts'))
      .filter((f) => /\.(eval|evalsha)\(/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(RAW_EVAL_SITES).toEqual(expect.arrayContaining(raw));
    // Every key of this deployment sits on that node; the other two hold none of them.
    const pattern = `${keys.key('')}*`.replace(/[{}]/g, (c) => `\\${c}`);
    const perNode = await Promise.all(
      cluster.servers.map(async (s) => {
        const { Redis } = await import('ioredis');
        const node = new Redis({ host: '127.0.0.1', port: s.port });
        try {
          return { port: s.port, keys: (await node.keys(pattern)).length };
        } finally {
          node.disconnect();
        }
      }),
    );
    const onOwner = perNode.find((n) => n.port === owner.options.port)!;
    expect(onOwner.keys).toBeGreaterThan(10);
    expect(perNode.filter((n) => n !== onOwner).map((n) => n.keys)).toEqual([0, 0]);
  });
});
