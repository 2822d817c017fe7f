import { generateApiKey } from '@herald/tenants';
import { TEST_ADMIN_KEY } from '@herald/testing';
import { TestApi } from '../../../test/support/api-app';

type Key = {
  id: string;
  key: string;
  prefix: string;
  scopes: string[];
  last_used_at: string | null;
  revoked_at: string | null;
};
type Problem = { type: string; status: number; detail: string; errors: { field: string; message: string }[] };

describe('tenants, API keys and authentication', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await TestApi.start({ API_KEY_LAST_USED_FLUSH_MS: '3600000' });
  });
  afterAll(async () => {
    await api.close();
  });

  it('creates a tenant with the platform key only, with its first admin key (shown once, stored hashed)', async () => {
    const res = await api.request<{ id: string; name: string; time_zone: string; api_key: Key }>(
      'POST',
      '/v1/tenants',
      {
        body: { name: ' Acme ', time_zone: 'america/new_york' },
      },
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'Acme',
      time_zone: 'America/New_York',
      api_key: { scopes: ['read', 'write', 'admin'] },
    });
    expect(res.body.api_key.key).toMatch(/^hk_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$/);
    const stored = await api.query<Record<string, unknown>>('SELECT * FROM api_keys WHERE id = $1', [
      res.body.api_key.id,
    ]);
    expect(JSON.stringify(stored)).not.toContain(res.body.api_key.key.slice(17));
    expect((stored[0]!.secret_hash as Buffer).length).toBe(32);

    const asTenant = await api.request<Problem>('POST', '/v1/tenants', {
      key: res.body.api_key.key,
      body: { name: 'X', time_zone: 'UTC' },
    });
    expect(asTenant.status).toBe(403);
    const bad = await api.request<Problem>('POST', '/v1/tenants', {
      body: { name: '', time_zone: 'Nowhere/Land', extra: 1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.field).sort()).toEqual(['extra', 'name', 'time_zone']);
  });

  it('answers 401 for a missing, malformed, unknown or revoked key, by either header', async () => {
    const t = await api.createTenant();
    const cases: [Record<string, string>, string][] = [
      [{}, 'An API key is required'],
      [{ authorization: 'Basic dXNlcjpwYXNz' }, 'not a Herald API key'],
      [{ authorization: 'Bearer' }, 'not a Herald API key'],
      [{ authorization: 'Bearer hk_short' }, 'not a Herald API key'],
      [{ 'x-api-key': generateApiKey().key }, 'Unknown API key'],
      [
        { authorization: `Bearer ${t.key.slice(0, -1)}${t.key.endsWith('a') ? 'b' : 'a'}` },
        'not a Herald API key',
      ],
      [{ authorization: `Bearer ${TEST_ADMIN_KEY}x` }, 'not a Herald API key'],
    ];
    for (const [headers, detail] of cases) {
      const res = await api.request<Problem>('GET', '/v1/contacts', { key: null, headers });
      expect({ headers, status: res.status }).toEqual({ headers, status: 401 });
      expect(res.body.detail).toContain(detail);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="herald"');
    }
    expect(
      (await api.request('GET', '/v1/contacts', { key: null, headers: { 'x-api-key': t.key } })).status,
    ).toBe(200);
    // An unknown /v1 route without a key is a 401 too: nothing about routes leaks before authentication.
    expect((await api.request('GET', '/v1/nothing-here', { key: null })).status).toBe(401);
  });

  it('enforces scopes: read < write < admin, and keeps the platform key out of tenant data', async () => {
    const t = await api.createTenant();
    const make = async (scopes: string[]) =>
      (
        await api.request<Key>('POST', '/v1/api-keys', {
          key: t.key,
          body: { name: scopes.join('+'), scopes },
        })
      ).body.key;
    const reader = await make(['read']);
    const writer = await make(['write']);
    expect((await api.request('GET', '/v1/contacts', { key: reader })).status).toBe(200);
    expect(
      (await api.request('POST', '/v1/contacts', { key: reader, body: { email: 'r@x.io' } })).status,
    ).toBe(403);
    expect(
      (await api.request('POST', '/v1/contacts', { key: writer, body: { email: 'w@x.io' } })).status,
    ).toBe(201);
    expect((await api.request('GET', '/v1/contacts', { key: writer })).status).toBe(200);
    expect((await api.request('GET', '/v1/api-keys', { key: writer })).status).toBe(403);
    expect(
      (await api.request('POST', '/v1/api-keys', { key: writer, body: { name: 'x', scopes: ['admin'] } }))
        .status,
    ).toBe(403);
    expect((await api.request('GET', '/v1/contacts', { key: TEST_ADMIN_KEY })).status).toBe(403);
  });

  it('lists keys without secrets, revokes them (401 at once), and refuses to revoke the last admin key', async () => {
    const t = await api.createTenant();
    const created = await api.request<Key>('POST', '/v1/api-keys', {
      key: t.key,
      body: { name: 'sync', scopes: ['write', 'read', 'write'] },
    });
    expect(created.status).toBe(201);
    expect(created.body.scopes).toEqual(['read', 'write']);
    const listed = await api.request<{ data: Key[]; next_cursor: null }>('GET', '/v1/api-keys', {
      key: t.key,
    });
    expect(listed.body.data.map((k) => k.id)).toEqual([t.keyId, created.body.id]);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);
    expect(listed.body.data.every((k) => !('key' in k))).toBe(true);

    expect((await api.request('GET', '/v1/contacts', { key: created.body.key })).status).toBe(200);
    expect((await api.request('DELETE', `/v1/api-keys/${created.body.id}`, { key: t.key })).status).toBe(204);
    const revoked = await api.request<Problem>('GET', '/v1/contacts', { key: created.body.key });
    expect(revoked.status).toBe(401);
    expect(revoked.body.detail).toBe('This API key was revoked.');
    expect((await api.request('DELETE', `/v1/api-keys/${created.body.id}`, { key: t.key })).status).toBe(204);

    const last = await api.request<Problem>('DELETE', `/v1/api-keys/${t.keyId}`, { key: t.key });
    expect(last.status).toBe(409);
    const admin2 = await api.request<Key>('POST', '/v1/api-keys', {
      key: t.key,
      body: { name: 'admin 2', scopes: ['admin'] },
    });
    expect((await api.request('DELETE', `/v1/api-keys/${t.keyId}`, { key: admin2.body.key })).status).toBe(
      204,
    );
    expect((await api.request('GET', '/v1/contacts', { key: t.key })).status).toBe(401);
    expect(
      (
        await api.request('DELETE', '/v1/api-keys/0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f', {
          key: admin2.body.key,
        })
      ).status,
    ).toBe(404);
  });

  it('records last_used_at in batches, not with a write per request', async () => {
    const t = await api.createTenant();
    const lastUsed = async () =>
      (
        await api.query<{ last_used_at: Date | null }>('SELECT last_used_at FROM api_keys WHERE id = $1', [
          t.keyId,
        ])
      )[0]!.last_used_at;
    for (let i = 0; i < 5; i++) await api.request('GET', '/v1/contacts', { key: t.key });
    expect(await lastUsed()).toBeNull();
    const { ApiKeyAuthenticator } = await import('@herald/tenants');
    await api.app.get(ApiKeyAuthenticator).flushLastUsed();
    const at = await lastUsed();
    expect(at).toBeInstanceOf(Date);
    expect(Date.now() - at!.getTime()).toBeLessThan(60_000);
  });
});
