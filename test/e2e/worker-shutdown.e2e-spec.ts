import {
  createTestDatabase,
  eventually,
  HeraldProcess,
  TEST_ADMIN_KEY,
  testEnvironment,
  testRedisPrefix,
  testRedisUrl,
  type TestDatabase,
} from '@herald/testing';

jest.setTimeout(90_000);

interface Ping {
  id: string;
  status: 'queued' | 'processed';
  processed_by: string | null;
}

/** SIGTERM on a busy worker: finish what fits in the grace, hand the rest back, exit 0. */
describe('worker graceful shutdown', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  let api: HeraldProcess;
  const workers: HeraldProcess[] = [];

  const ping = async (holdMs: number): Promise<string> => {
    const res = await fetch(`${api.publicUrl}/v1/system/pings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ hold_ms: holdMs }),
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as Ping).id;
  };
  const read = async (id: string): Promise<Ping> =>
    (await (
      await fetch(`${api.publicUrl}/v1/system/pings/${id}`, { headers: { 'x-api-key': TEST_ADMIN_KEY } })
    ).json()) as Ping;

  beforeAll(async () => {
    db = await createTestDatabase();
    env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: testRedisPrefix(),
      SHUTDOWN_GRACE_MS: '1500',
      LOG_LEVEL: 'debug',
      READY_REQUIRE_WORKERS: 'false',
    });
    api = await HeraldProcess.start('api', env);
  });

  afterAll(async () => {
    await Promise.all([api, ...workers].filter((p) => p?.running).map((p) => p.stop()));
    await db?.drop();
  });

  it('finishes an in-flight job that fits in the grace before exiting 0', async () => {
    const worker = await HeraldProcess.start('worker', env);
    workers.push(worker);
    const id = await ping(700);
    await worker.waitFor((l) => l.msg === 'job started' && l.job_id === `ping-${id}`);
    const stopping = worker.stop();
    expect(await stopping).toEqual({ code: 0, signal: null });
    const done = await read(id);
    expect(done.status).toBe('processed');
    expect(worker.lines.some((l) => l.msg === 'job completed' && l.job_id === `ping-${id}`)).toBe(true);
    // It finished after the shutdown began, not before.
    const shutdownAt = worker.lines.findIndex((l) => l.msg === 'shutting down');
    const completedAt = worker.lines.findIndex((l) => l.msg === 'job completed' && l.job_id === `ping-${id}`);
    expect(shutdownAt).toBeGreaterThanOrEqual(0);
    expect(completedAt).toBeGreaterThan(shutdownAt);
  });

  it('hands a job that outlives the grace back to the queue, where another worker finishes it', async () => {
    const first = await HeraldProcess.start('worker', env);
    workers.push(first);
    const id = await ping(6000);
    await first.waitFor((l) => l.msg === 'job started' && l.job_id === `ping-${id}`);
    expect(await first.stop()).toEqual({ code: 0, signal: null });
    expect(
      first.lines.some(
        (l) => l.msg === 'job handed back to the queue at shutdown' && l.job_id === `ping-${id}`,
      ),
    ).toBe(true);
    expect((await read(id)).status).toBe('queued');

    const second = await HeraldProcess.start('worker', env);
    workers.push(second);
    const done = await eventually(
      async () => {
        const p = await read(id);
        return p.status === 'processed' ? p : undefined;
      },
      { timeoutMs: 20_000, what: 'handed-back ping processed by the second worker' },
    );
    const secondId = (await second.waitFor((l) => l.msg === 'ping processed' && l.ping_id === id)).job_id;
    expect(secondId).toBe(`ping-${id}`);
    expect(done.processed_by).not.toBeNull();
  });
});
