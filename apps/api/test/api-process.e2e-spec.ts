import {
  createTestDatabase,
  HeraldProcess,
  TEST_ADMIN_KEY,
  testEnvironment,
  testRedisPrefix,
  testRedisUrl,
  type TestDatabase,
} from '@herald/testing';

/** The built api as a real process: the public contract end to end, and what its logs say (and never say). */
describe('api process: tenants, keys, contacts', () => {
  let database: TestDatabase;
  let api: HeraldProcess;

  beforeAll(async () => {
    database = await createTestDatabase();
    api = await HeraldProcess.start(
      'api',
      testEnvironment({
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl(),
        QUEUE_PREFIX: testRedisPrefix(),
        READY_REQUIRE_WORKERS: 'false',
      }),
    );
  });
  afterAll(async () => {
    await api?.stop();
    await database?.drop();
  });

  const call = async (
    method: string,
    path: string,
    key: string | null,
    body?: string,
    type = 'application/json',
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(api.publicUrl + path, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body ? { 'content-type': type } : {}),
        ...headers,
      },
      body,
    });
    return {
      status: res.status,
      headers: res.headers,
      body: (await res.json().catch(() => undefined)) as Record<string, unknown>,
    };
  };

  it('serves the contract and logs each request with its request and tenant ids, never a key', async () => {
    const tenant = await call(
      'POST',
      '/v1/tenants',
      TEST_ADMIN_KEY,
      JSON.stringify({ name: 'E2E', time_zone: 'Europe/Berlin' }),
    );
    expect(tenant.status).toBe(201);
    const key = (tenant.body.api_key as { key: string }).key;
    const tenantId = tenant.body.id as string;

    const imported = await call(
      'POST',
      '/v1/contacts/import',
      key,
      '\ufeffemail,first_name,tags\r\nada@x.io,Ada,vip\r\nnope,Bad,\r\n',
      'text/csv',
      {
        'x-request-id': 'e2e-import-request-1',
      },
    );
    expect(imported.status).toBe(200);
    expect(imported.body).toMatchObject({ created: 1, failed: 1 });
    expect(imported.headers.get('x-request-id')).toBe('e2e-import-request-1');

    const list = await call('GET', '/v1/contacts?tag=vip', key);
    expect((list.body.data as { email: string }[]).map((c) => c.email)).toEqual(['ada@x.io']);
    expect((await call('GET', '/v1/contacts', 'hk_not_a_real_key')).status).toBe(401);
    expect((await call('GET', '/docs-json', null)).status).toBe(200);

    const line = await api.waitFor(
      (l) =>
        l.request_id === 'e2e-import-request-1' &&
        typeof l.msg === 'string' &&
        l.msg.includes('/v1/contacts/import'),
    );
    expect(line).toMatchObject({ tenant_id: tenantId, service: 'herald-api' });
    const logs = api.lines.map((l) => JSON.stringify(l)).join('\n') + api.stderr.join('\n');
    expect(logs).not.toContain(key);
    expect(logs).not.toContain(key.slice(17));
    expect(logs).not.toContain(TEST_ADMIN_KEY);
  });

  it('keeps /v1 off the ops port and /metrics off the public port', async () => {
    expect((await fetch(`${api.opsUrl}/metrics`)).status).toBe(200);
    expect((await fetch(`${api.publicUrl}/metrics`)).status).toBe(404);
    expect((await fetch(`${api.opsUrl}/health`)).status).toBe(200);
    expect((await fetch(`${api.publicUrl}/METRICS`)).status).toBe(404);
    expect((await fetch(`${api.publicUrl}/Internal/worker/heartbeat`)).status).toBe(404);
  });

  it('answers a request Node itself refuses (headers past its limit) with a problem, on both ports', async () => {
    for (const base of [api.publicUrl, api.opsUrl]) {
      const res = await fetch(`${base}/health`, { headers: { 'x-padding': 'x'.repeat(20_000) } });
      expect(res.status).toBe(431);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ status: 431, title: 'Request Header Fields Too Large' });
    }
    expect((await fetch(`${api.publicUrl}/health`)).status).toBe(200);
  });
});
