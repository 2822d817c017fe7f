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
import { RedisKeys } from '@herald/queues';
import { Redis } from 'ioredis';
import { StalledRequest } from '../../../test/support/stalled-request';

const GRACE_MS = 5000;

/** The built api as a real process, stopped like an orchestrator stops it while clients stall. */
describe('api process: SIGTERM while imports stall', () => {
  let database: TestDatabase;
  let api: HeraldProcess;
  const prefix = testRedisPrefix();
  const keys = new RedisKeys(prefix);
  const redis = new Redis(testRedisUrl(), { lazyConnect: true });

  beforeAll(async () => {
    database = await createTestDatabase();
    api = await HeraldProcess.start(
      'api',
      testEnvironment({
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl(),
        QUEUE_PREFIX: prefix,
        READY_REQUIRE_WORKERS: 'false',
        SHUTDOWN_GRACE_MS: String(GRACE_MS),
        // Far longer than the grace: only the shutdown can end these requests.
        HTTP_BODY_IDLE_TIMEOUT_MS: '60000',
        DATABASE_POOL_MAX: '4',
        API_IMPORT_CONCURRENCY_PER_TENANT: '20',
      }),
    );
  });
  afterAll(async () => {
    await api?.stop();
    await database?.drop();
    redis.disconnect();
  });

  it('exits 0 within the grace period, cutting the stalled requests', async () => {
    const created = await fetch(`${api.publicUrl}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Stalling', time_zone: 'UTC' }),
    });
    const tenant = (await created.json()) as { id: string; api_key: { key: string } };
    const key = tenant.api_key.key;
    const stalled = await Promise.all(
      Array.from({ length: 20 }, () =>
        StalledRequest.open(
          api.publicUrl,
          '/v1/contacts/import',
          { authorization: `Bearer ${key}`, 'content-type': 'text/csv' },
          'email\r\n',
        ),
      ),
    );
    // All 20 are inside the handler, each holding an import slot; a 21st is refused.
    await eventually(async () => (await redis.zcard(keys.key('imports', tenant.id))) === 20, {
      what: 'all 20 stalled imports admitted',
    });
    const extra = await fetch(`${api.publicUrl}/v1/contacts/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' },
      body: 'email\r\nx@x.io\r\n',
    });
    expect(extra.status).toBe(429);
    expect((await fetch(`${api.publicUrl}/ready`)).status).toBe(200);

    const signalled = performance.now();
    api.signal('SIGTERM');
    const exit = await api.exited;
    const took = performance.now() - signalled;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(took).toBeLessThan(GRACE_MS);
    // The stalled clients were disconnected, none left hanging.
    await Promise.all(stalled.map((s) => s.answer));
    expect(api.lines.some((l) => l.msg === 'stopped')).toBe(true);
  });
});
