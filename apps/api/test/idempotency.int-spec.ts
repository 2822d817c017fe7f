import { TestApi } from '../../../test/support/api-app';

type Problem = { type: string; status: number; errors: { field: string; message: string }[] };

describe('Idempotency-Key', () => {
  let api: TestApi;
  let key: string;
  let tenantId: string;

  beforeAll(async () => {
    api = await TestApi.start();
    ({ key, id: tenantId } = await api.createTenant());
  });
  afterAll(async () => {
    await api.close();
  });

  const count = async (sql: string, params: unknown[]) =>
    Number((await api.query<{ n: string }>(sql, params))[0]!.n);

  it('replays the first response (status and body) for the same key and body, without running again', async () => {
    const body = { email: 'once@x.io', first_name: 'Once' };
    const first = await api.request<{ id: string }>('POST', '/v1/contacts', {
      key,
      body,
      headers: { 'idempotency-key': 'create-once' },
    });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // Same body with keys reordered: the same request.
    const second = await api.request('POST', '/v1/contacts', {
      key,
      body: { first_name: 'Once', email: 'once@x.io' },
      headers: { 'idempotency-key': 'create-once' },
    });
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(
      await count('SELECT count(*) AS n FROM contacts WHERE tenant_id = $1 AND email = $2', [
        tenantId,
        'once@x.io',
      ]),
    ).toBe(1);
    // Without the key the same body is a new request (and a conflict).
    expect((await api.request('POST', '/v1/contacts', { key, body })).status).toBe(409);
  });

  it('answers 422 for the same key with another body (or route), and changes nothing', async () => {
    await api.request('POST', '/v1/contacts', {
      key,
      body: { email: 'k1@x.io' },
      headers: { 'idempotency-key': 'k1' },
    });
    const other = await api.request<Problem>('POST', '/v1/contacts', {
      key,
      body: { email: 'k1-other@x.io' },
      headers: { 'idempotency-key': 'k1' },
    });
    expect(other.status).toBe(422);
    expect(other.body.type).toBe('https://herald.dev/problems/idempotency-key-reused');
    const route = await api.request<Problem>('POST', '/v1/suppressions', {
      key,
      body: { email: 'k1@x.io', reason: 'manual' },
      headers: { 'idempotency-key': 'k1' },
    });
    expect(route.status).toBe(422);
    expect(
      await count('SELECT count(*) AS n FROM contacts WHERE tenant_id = $1 AND email = $2', [
        tenantId,
        'k1-other@x.io',
      ]),
    ).toBe(0);
    expect(await count('SELECT count(*) AS n FROM suppressions WHERE tenant_id = $1', [tenantId])).toBe(0);
  });

  it('runs once under concurrent duplicates: every answer is the first response', async () => {
    const body = { email: 'race@x.io', tags: ['race'] };
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        api.request<{ id: string }>('POST', '/v1/contacts', {
          key,
          body,
          headers: { 'idempotency-key': 'race-key' },
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(201));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(11);
    expect(
      await count('SELECT count(*) AS n FROM contacts WHERE tenant_id = $1 AND email = $2', [
        tenantId,
        'race@x.io',
      ]),
    ).toBe(1);
  });

  it('stores nothing for a failed request, so a corrected retry with the same key runs', async () => {
    const bad = await api.request('POST', '/v1/contacts', {
      key,
      body: { email: 'dup@x.io' },
      headers: { 'idempotency-key': 'retry-me' },
    });
    expect(bad.status).toBe(201);
    const conflict = await api.request('POST', '/v1/contacts', {
      key,
      body: { email: 'dup@x.io' },
      headers: { 'idempotency-key': 'other-key' },
    });
    expect(conflict.status).toBe(409);
    const corrected = await api.request('POST', '/v1/contacts', {
      key,
      body: { email: 'dup2@x.io' },
      headers: { 'idempotency-key': 'other-key' },
    });
    expect(corrected.status).toBe(201);
  });

  it('expires keys: after the TTL the same key runs again', async () => {
    const body = { email: 'ttl@x.io', reason: 'manual' };
    const first = await api.request<{ id: string }>('POST', '/v1/suppressions', {
      key,
      body,
      headers: { 'idempotency-key': 'ttl' },
    });
    expect(first.status).toBe(201);
    const ttl = await api.query<{ seconds: number }>(
      `SELECT extract(epoch FROM expires_at - created_at)::int AS seconds FROM idempotency_keys WHERE tenant_id = $1 AND key = 'ttl'`,
      [tenantId],
    );
    expect(ttl[0]!.seconds).toBe(86_400);
    await api.query(
      `UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE tenant_id = $1 AND key = 'ttl'`,
      [tenantId],
    );
    await api.request('DELETE', `/v1/suppressions/${first.body.id}`, { key });
    const again = await api.request<{ id: string }>('POST', '/v1/suppressions', {
      key,
      body,
      headers: { 'idempotency-key': 'ttl' },
    });
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
  });

  it('keys are per tenant, and stored responses are sealed (a new API key is not readable in the table)', async () => {
    const other = await api.createTenant('Other');
    const a = await api.request<{ key: string }>('POST', '/v1/api-keys', {
      key,
      body: { name: 'x', scopes: ['read'] },
      headers: { 'idempotency-key': 'shared' },
    });
    const b = await api.request<{ key: string }>('POST', '/v1/api-keys', {
      key: other.key,
      body: { name: 'x', scopes: ['read'] },
      headers: { 'idempotency-key': 'shared' },
    });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(a.body.key).not.toBe(b.body.key);
    const replay = await api.request<{ key: string }>('POST', '/v1/api-keys', {
      key,
      body: { name: 'x', scopes: ['read'] },
      headers: { 'idempotency-key': 'shared' },
    });
    expect(replay.body.key).toBe(a.body.key);
    const raw = await api.query<{ response_body: Buffer }>('SELECT response_body FROM idempotency_keys');
    expect(raw.some((r) => r.response_body.toString('latin1').includes(a.body.key))).toBe(false);
  });

  it('works for imports: a replay is not run again, another body is a 422', async () => {
    const csv = 'email,first_name\r\nimp1@x.io,One\r\nimp2@x.io,Two\r\n';
    const send = (text: string) =>
      api.request<{ created: number; updated: number }>('POST', '/v1/contacts/import', {
        key,
        raw: text,
        headers: { 'content-type': 'text/csv', 'idempotency-key': 'import-1' },
      });
    const first = await send(csv);
    expect(first.body).toMatchObject({ created: 2, updated: 0 });
    const replay = await send(csv);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await send(`${csv}imp3@x.io,Three\r\n`)).status).toBe(422);
    expect(
      await count('SELECT count(*) AS n FROM contacts WHERE tenant_id = $1 AND email LIKE $2', [
        tenantId,
        'imp%',
      ]),
    ).toBe(2);
  });

  it('refuses a malformed key', async () => {
    const res = await api.request<Problem>('POST', '/v1/contacts', {
      key,
      body: { email: 'm@x.io' },
      headers: { 'idempotency-key': 'x'.repeat(256) },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]?.field).toBe('Idempotency-Key');
  });
});
