import {
  createTestDatabase,
  eventually,
  HeraldProcess,
  RedisServer,
  TEST_ADMIN_KEY,
  testEnvironment,
  testRedisPrefix,
  type TestDatabase,
} from '@herald/testing';
import { Client } from 'pg';

jest.setTimeout(120_000);

interface Ready {
  status: 'up' | 'down';
  service: string;
  version: string;
  duration_ms: number;
  components: Record<string, { status: 'up' | 'down'; duration_ms: number; error?: string }>;
}

async function ready(base: string): Promise<{ code: number; body: Ready }> {
  const res = await fetch(`${base}/ready`);
  return { code: res.status, body: (await res.json()) as Ready };
}

async function metric(base: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

/**
 * The fleet as it runs in production: the three built apps as separate processes talking only
 * through Redis and Postgres. Redis is a dedicated server here so the test can stop it.
 */
describe('the api, worker and beat fleet', () => {
  let db: TestDatabase;
  let redis: RedisServer;
  let env: Record<string, string>;
  let api: HeraldProcess;
  let worker: HeraldProcess;
  const beats: HeraldProcess[] = [];

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), RedisServer.start()]);
    env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: testRedisPrefix(),
      BEAT_LEASE_TTL_MS: '2000',
      BEAT_LEASE_RENEW_MS: '400',
    });
    [api, worker] = await Promise.all([HeraldProcess.start('api', env), HeraldProcess.start('worker', env)]);
  });

  afterAll(async () => {
    await Promise.all([api, worker, ...beats].filter(Boolean).map((p) => p.stop()));
    await redis?.destroy();
    await db?.drop();
  });

  it('is ready with every component up', async () => {
    const { code, body } = await eventually(
      async () => {
        const r = await ready(api.publicUrl);
        return r.code === 200 ? r : undefined;
      },
      { what: 'api /ready 200' },
    );
    expect(code).toBe(200);
    expect(body).toMatchObject({
      status: 'up',
      service: 'herald-api',
      version: expect.any(String) as string,
    });
    expect(typeof body.duration_ms).toBe('number');
    for (const component of ['database', 'redis', 'workers']) {
      expect(body.components[component]).toMatchObject({
        status: 'up',
        duration_ms: expect.any(Number) as number,
      });
    }
    const workerReady = await ready(worker.opsUrl);
    expect(workerReady.code).toBe(200);
    expect(Object.keys(workerReady.body.components).sort()).toEqual(['database', 'redis']);
  });

  it('keeps metrics and internal routes on the ops port only', async () => {
    expect((await fetch(`${api.publicUrl}/metrics`)).status).toBe(404);
    expect((await fetch(`${api.publicUrl}/internal/worker/heartbeat`)).status).toBe(404);
    const tenantish = await fetch(`${api.publicUrl}/internal/worker/heartbeat`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
    });
    expect(tenantish.status).toBe(404);
    const metrics = await (await fetch(`${api.opsUrl}/metrics`)).text();
    expect(metrics).toContain('herald_http_requests_total');
    expect(metrics).toContain('herald_process_resident_memory_bytes');
    expect(metrics).toMatch(/herald_queue_jobs\{queue="system",state="waiting"\} \d+/);
    const heartbeat = (await (await fetch(`${api.opsUrl}/internal/worker/heartbeat`)).json()) as {
      workers: {
        queues: string[];
        concurrency: Record<string, number>;
        started_at: string;
        host: string;
        id: string;
      }[];
    };
    expect(heartbeat.workers).toHaveLength(1);
    expect(heartbeat.workers[0]).toMatchObject({
      queues: ['system', 'runs', 'deliveries', 'sourcing'],
      concurrency: { system: 4, runs: 2, deliveries: 200, sourcing: 8 },
      host: expect.any(String) as string,
    });
    expect((await fetch(`${worker.opsUrl}/v1/system/pings`)).status).toBe(404);
  });

  it('carries one request id from the api through Redis and the worker into Postgres', async () => {
    const requestId = `e2e-ping-${Date.now()}`;
    const res = await fetch(`${api.publicUrl}/v1/system/pings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'x-request-id': requestId },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-request-id')).toBe(requestId);
    const { id } = (await res.json()) as { id: string };

    const processed = await eventually(
      async () => {
        const r = await fetch(`${api.publicUrl}/v1/system/pings/${id}`, {
          headers: { 'x-api-key': TEST_ADMIN_KEY },
        });
        const body = (await r.json()) as {
          status: string;
          processed_by: string;
          request_id: string;
          job_id: string;
        };
        return body.status === 'processed' ? body : undefined;
      },
      { what: 'ping processed' },
    );
    expect(processed.request_id).toBe(requestId);
    expect(processed.job_id).toBe(`ping-${id}`);

    const client = new Client({ connectionString: db.url });
    await client.connect();
    const row = await client.query<{ request_id: string; processed_by: string }>(
      'SELECT request_id, processed_by FROM system_pings WHERE id = $1',
      [id],
    );
    await client.end();
    expect(row.rows[0]?.request_id).toBe(requestId);

    const apiLine = await api.waitFor(
      (l) => l.request_id === requestId && l.msg === `POST /v1/system/pings 202`,
    );
    const workerLines = await worker.waitFor((l) => l.request_id === requestId && l.msg === 'ping processed');
    expect(apiLine.service).toBe('herald-api');
    expect(workerLines).toMatchObject({
      service: 'herald-worker',
      job_id: `ping-${id}`,
      queue: 'system',
      ping_id: id,
    });
  });

  it('never logs credentials', () => {
    const everything = [...api.lines, ...worker.lines].map((l) => JSON.stringify(l)).join('\n');
    expect(everything).not.toContain(TEST_ADMIN_KEY);
    expect(everything).not.toContain(env.HERALD_ENCRYPTION_KEY);
  });

  it('reports redis down within seconds when Redis stops, and recovers when it returns', async () => {
    await redis.stop();
    const down = await eventually(
      async () => {
        const r = await ready(api.publicUrl);
        return r.code === 503 && r.body.components.redis?.status === 'down' ? r : undefined;
      },
      { timeoutMs: 5000, what: 'api /ready 503 with redis down' },
    );
    expect(down.body.status).toBe('down');
    expect(down.body.components.database?.status).toBe('up');
    const workerDown = await ready(worker.opsUrl);
    expect(workerDown.code).toBe(503);

    await redis.start();
    await eventually(async () => ((await ready(api.publicUrl)).code === 200 ? true : undefined), {
      timeoutMs: 15_000,
      what: 'api /ready 200 again',
    });
    await eventually(async () => ((await ready(worker.opsUrl)).code === 200 ? true : undefined), {
      timeoutMs: 15_000,
      what: 'worker /ready 200 again',
    });
    // Nobody crashed along the way.
    expect(api.lines.some((l) => l.level === 'fatal')).toBe(false);
    await expect(Promise.race([api.exited, worker.exited, Promise.resolve('alive')])).resolves.toBe('alive');

    // And work flows again once Redis is back.
    const res = await fetch(`${api.publicUrl}/v1/system/pings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
    });
    const { id } = (await res.json()) as { id: string };
    await eventually(
      async () => {
        const body = (await (
          await fetch(`${api.publicUrl}/v1/system/pings/${id}`, { headers: { 'x-api-key': TEST_ADMIN_KEY } })
        ).json()) as { status: string };
        return body.status === 'processed' ? true : undefined;
      },
      { what: 'ping processed after Redis returned' },
    );
  });

  it('runs one beat leader among two, and the standby takes over within the lease TTL when the leader is killed', async () => {
    beats.push(...(await Promise.all([HeraldProcess.start('beat', env), HeraldProcess.start('beat', env)])));
    const leaders = async () => Promise.all(beats.map((b) => metric(b.opsUrl, 'herald_beat_leader')));
    await eventually(
      async () => {
        const flags = await leaders();
        return flags.filter((f) => f === 1).length === 1 && flags.filter((f) => f === 0).length === 1
          ? flags
          : undefined;
      },
      { what: 'exactly one beat leader' },
    );

    const flags = await leaders();
    const leader = beats[flags.indexOf(1)]!;
    const standby = beats[flags.indexOf(0)]!;
    const firstToken = (await leader.waitFor((l) => l.event === 'acquired')).fencing_token as number;

    const killedAt = Date.now();
    leader.signal('SIGKILL');
    await leader.exited;
    const takeover = await standby.waitFor((l) => l.event === 'acquired', 10_000);
    const tookMs = Date.now() - killedAt;
    expect(tookMs).toBeLessThanOrEqual(2000 + 500); // the lease TTL, plus scheduling slack on a busy machine
    expect(takeover.fencing_token).toBeGreaterThan(firstToken);
    expect(await metric(standby.opsUrl, 'herald_beat_leader')).toBe(1);
  });

  it('exits 0 on SIGTERM within the grace period', async () => {
    const running = [api, worker, ...beats].filter((p) => p.running);
    expect(running.map((p) => p.role).sort()).toEqual(['api', 'beat', 'worker']);
    const started = Date.now();
    const exits = await Promise.all(running.map((p) => p.stop()));
    expect(exits).toEqual(running.map(() => ({ code: 0, signal: null })));
    expect(Date.now() - started).toBeLessThan(5000 + 2000);
    for (const p of running) expect(p.lines.some((l) => l.msg === 'stopped')).toBe(true);
  });
});
