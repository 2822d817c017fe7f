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

/**
 * ROLE=all as a small install runs it: apps/all composes the api, worker and beat through their
 * public indexes into one process, which serves the API, consumes every queue and leads the beat.
 */
describe('the all role: api, worker and beat in one process', () => {
  let db: TestDatabase;
  let all: HeraldProcess;
  const admin = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

  beforeAll(async () => {
    db = await createTestDatabase();
    all = await HeraldProcess.start(
      'all',
      testEnvironment({ DATABASE_URL: db.url, REDIS_URL: testRedisUrl(), QUEUE_PREFIX: testRedisPrefix() }),
    );
  });
  afterAll(async () => {
    await all?.stop();
    await db?.drop();
  });

  it('is ready with its own worker heartbeat, and leads the beat', async () => {
    const body = await eventually(
      async () => {
        const res = await fetch(`${all.opsUrl}/ready`);
        const ready = (await res.json()) as { components: Record<string, { status: string }> };
        return res.status === 200 && ready.components.workers?.status === 'up' ? ready : undefined;
      },
      { what: 'all /ready 200 with workers up' },
    );
    expect(Object.keys(body.components).sort()).toEqual(['database', 'leadership', 'redis', 'workers']);
    await all.waitFor((l) => l.msg === 'beat is now the leader');
  });

  it('takes a ping through its own queue and worker', async () => {
    const created = await fetch(`${all.publicUrl}/v1/system/pings`, { method: 'POST', headers: admin });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    const processed = await eventually(
      async () => {
        const res = await fetch(`${all.publicUrl}/v1/system/pings/${id}`, { headers: admin });
        const ping = (await res.json()) as { status: string; job_id: string };
        return ping.status === 'processed' ? ping : undefined;
      },
      { what: 'ping processed' },
    );
    expect(processed.job_id).toBe(`ping-${id}`);
  });

  it('serves the api set-up on the public port only', async () => {
    expect((await fetch(`${all.publicUrl}/docs-json`)).status).toBe(200);
    expect((await fetch(`${all.opsUrl}/docs-json`)).status).toBe(404);
    expect((await fetch(`${all.opsUrl}/v1/system/pings`, { method: 'POST', headers: admin })).status).toBe(
      404,
    );
    const helmet = await fetch(`${all.publicUrl}/health`);
    expect(helmet.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('stops cleanly on SIGTERM', async () => {
    expect(await all.stop()).toEqual({ code: 0, signal: null });
  });
});
