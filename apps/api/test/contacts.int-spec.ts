import { DateTime } from 'luxon';
import { TestApi } from '../../../test/support/api-app';

type Contact = Record<string, unknown> & {
  id: string;
  email: string | null;
  status: string;
  tags: string[];
  attributes: Record<string, unknown>;
};
type Page = { data: Contact[]; next_cursor: string | null };
type Problem = { type: string; status: number; errors: { field: string; message: string }[]; detail: string };

describe('contacts API', () => {
  let api: TestApi;
  let key: string;

  beforeAll(async () => {
    api = await TestApi.start();
    ({ key } = await api.createTenant('Contacts', 'Asia/Tokyo'));
  });
  afterAll(async () => {
    await api.close();
  });

  const post = (body: unknown) => api.request<Contact & Problem>('POST', '/v1/contacts', { key, body });

  it('creates, reads, patches and archives a contact, in snake_case', async () => {
    const created = await post({
      email: '  Ada@Example.COM ',
      external_ref: 'crm-1',
      first_name: 'Ada',
      last_name: 'Lovelace',
      birth_date: '1985-12-10',
      time_zone: 'europe/london',
      tags: ['vip', 'vip', 'news'],
      attributes: { plan: 'pro', seats: 3 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      email: 'ada@example.com',
      external_ref: 'crm-1',
      time_zone: 'Europe/London',
      tags: ['vip', 'news'],
      status: 'active',
      birth_date: '1985-12-10',
      attributes: { plan: 'pro', seats: 3 },
      score: null,
      archived_at: null,
    });
    const id = created.body.id;
    expect((await api.request<Contact>('GET', `/v1/contacts/${id}`, { key })).body).toEqual(created.body);

    const patched = await api.request<Contact>('PATCH', `/v1/contacts/${id}`, {
      key,
      body: { last_name: null, attributes: { seats: null, region: 'eu' }, tags: ['a'] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      last_name: null,
      first_name: 'Ada',
      attributes: { plan: 'pro', region: 'eu' },
      tags: ['a'],
    });

    const archived = await api.request('DELETE', `/v1/contacts/${id}`, { key });
    expect(archived.status).toBe(204);
    expect(await api.request('DELETE', `/v1/contacts/${id}`, { key })).toMatchObject({ status: 204 });
    const after = await api.request<Contact>('GET', `/v1/contacts/${id}`, { key });
    expect(after.body).toMatchObject({ status: 'archived' });
    expect(after.body.archived_at).toEqual(expect.any(String));
    const restored = await api.request<Contact>('PATCH', `/v1/contacts/${id}`, {
      key,
      body: { status: 'active' },
    });
    expect(restored.body).toMatchObject({ status: 'active', archived_at: null });
  });

  it('refuses unknown fields, mass assignment, bad values and bounds, naming each field', async () => {
    const res = await post({
      id: '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f',
      tenant_id: '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f',
      created_at: '2020-01-01T00:00:00Z',
      score: 99,
      email: 'not-an-email',
      first_name: 'x'.repeat(101),
      birth_date: '2001-02-29',
      time_zone: 'Mars/Olympus',
      status: 'deleted',
      tags: Array.from({ length: 51 }, (_, i) => `t${i}`),
      attributes: { big: 'x'.repeat(20_000) },
      profile_url: 'javascript:alert(1)',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const fields = res.body.errors.map((e) => e.field).sort();
    expect(fields).toEqual(
      [
        'attributes',
        'birth_date',
        'created_at',
        'email',
        'first_name',
        'id',
        'profile_url',
        'score',
        'status',
        'tags',
        'tenant_id',
        'time_zone',
      ].sort(),
    );
    expect(res.body.type).toBe('https://herald.dev/problems/validation-failed');
    expect(await api.query('SELECT 1 FROM contacts WHERE email = $1', ['not-an-email'])).toHaveLength(0);
  });

  it('needs an email or an external_ref, and keeps one on patch', async () => {
    expect((await post({ first_name: 'Nobody' })).body.errors).toEqual([
      { field: 'email', message: 'a contact needs an email or an external_ref' },
    ]);
    const c = await post({ email: 'only@example.com' });
    const res = await api.request<Problem>('PATCH', `/v1/contacts/${c.body.id}`, {
      key,
      body: { email: null },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]?.field).toBe('email');
    expect((await api.request<Problem>('PATCH', `/v1/contacts/${c.body.id}`, { key, body: {} })).status).toBe(
      400,
    );
  });

  it('answers 409 when the email or external_ref is taken', async () => {
    await post({ email: 'taken@example.com', external_ref: 'taken-ref' });
    const dupEmail = await post({ email: 'TAKEN@example.com' });
    expect(dupEmail.status).toBe(409);
    expect(dupEmail.body.errors).toEqual([{ field: 'email', message: 'is taken by another contact' }]);
    const dupRef = await post({ external_ref: 'taken-ref' });
    expect(dupRef.status).toBe(409);
    expect(dupRef.body.errors[0]?.field).toBe('external_ref');
    const other = await post({ email: 'other@example.com' });
    const patch = await api.request<Problem>('PATCH', `/v1/contacts/${other.body.id}`, {
      key,
      body: { email: 'taken@example.com' },
    });
    expect(patch.status).toBe(409);
  });

  it('answers 404 for unknown and malformed ids', async () => {
    for (const id of ['0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f', 'nope', '1']) {
      expect((await api.request('GET', `/v1/contacts/${id}`, { key })).status).toBe(404);
      expect(
        (await api.request('PATCH', `/v1/contacts/${id}`, { key, body: { first_name: 'X' } })).status,
      ).toBe(404);
      expect((await api.request('DELETE', `/v1/contacts/${id}`, { key })).status).toBe(404);
    }
  });

  describe('lists', () => {
    let tenantKey: string;
    const ids: Record<string, string> = {};
    const get = (q: string) => api.request<Page & Problem>('GET', `/v1/contacts${q}`, { key: tenantKey });

    beforeAll(async () => {
      ({ key: tenantKey } = await api.createTenant('Lists', 'Asia/Tokyo'));
      const todayTokyo = DateTime.now().setZone('Asia/Tokyo');
      const specs: [string, Record<string, unknown>][] = [
        [
          'ada',
          {
            email: 'ada@x.io',
            first_name: 'Ada',
            last_name: 'Lovelace',
            tags: ['vip', 'eu'],
            birth_date: todayTokyo.minus({ years: 30 }).toISODate(),
          },
        ],
        [
          'alan',
          {
            email: 'alan@x.io',
            first_name: 'Alan',
            last_name: 'Turing',
            tags: ['eu'],
            birth_date: '1990-06-23',
          },
        ],
        [
          'grace',
          {
            email: 'grace@y.io',
            first_name: 'Grace',
            last_name: 'Hopper',
            tags: ['vip'],
            status: 'unsubscribed',
          },
        ],
        [
          'edsger',
          { external_ref: 'ext-dijkstra', first_name: 'Edsger', last_name: 'Dijkstra', status: 'bounced' },
        ],
        ['gone', { email: 'gone@x.io', first_name: 'Ghost', status: 'archived' }],
        ['under', { email: 'a_b@x.io', first_name: 'Underscore' }],
      ];
      for (const [name, body] of specs) {
        const res = await api.request<Contact>('POST', '/v1/contacts', { key: tenantKey, body });
        expect(res.status).toBe(201);
        ids[name] = res.body.id;
      }
    });

    const names = (page: Page) =>
      page.data.map((c) => Object.entries(ids).find(([, id]) => id === c.id)?.[0]);

    it('leaves archived out by default and filters by status', async () => {
      expect(names((await get('')).body)).toEqual(['ada', 'alan', 'grace', 'edsger', 'under']);
      expect(names((await get('?status=archived')).body)).toEqual(['gone']);
      expect(names((await get('?status=bounced&status=unsubscribed')).body)).toEqual(['grace', 'edsger']);
    });

    it('filters by tags (all of them), birthday and q prefix', async () => {
      expect(names((await get('?tag=vip')).body)).toEqual(['ada', 'grace']);
      expect(names((await get('?tag=vip&tag=eu')).body)).toEqual(['ada']);
      expect(names((await get('?birthday=today')).body)).toEqual(['ada']);
      expect(names((await get('?birthday=06-23')).body)).toEqual(['alan']);
      expect(names((await get('?q=AL')).body)).toEqual(['alan']);
      expect(names((await get('?q=ada%20love')).body)).toEqual(['ada']);
      expect(names((await get('?q=grace%20h')).body)).toEqual(['grace']);
      expect(names((await get('?q=hopper')).body)).toEqual([]);
      expect(names((await get('?q=a_')).body)).toEqual(['under']);
      expect(names((await get('?q=a%25')).body)).toEqual([]);
    });

    it('filters by creation time', async () => {
      const rows = await api.query<{ id: string; created_at: Date }>(
        'SELECT id, created_at FROM contacts WHERE id = $1',
        [ids.grace],
      );
      const at = rows[0]!.created_at.toISOString();
      const before = (await get(`?created_before=${encodeURIComponent(at)}`)).body;
      const after = (await get(`?created_after=${encodeURIComponent(at)}`)).body;
      expect(before.data.every((c) => (c.created_at as string) < at)).toBe(true);
      expect(after.data.every((c) => (c.created_at as string) > at)).toBe(true);
    });

    it('answers each listed contact exactly as a read of it (the list is rendered by Postgres)', async () => {
      await api.query(
        `UPDATE contacts SET score = 12.375, tier = 'gold', attributes = '{"nested": {"a": [1, "two", null]}, "é": "ü"}'
          WHERE id = $1`,
        [ids.alan],
      );
      for (const q of ['', '?status=archived', '?tag=eu', '?limit=2', '?q=al']) {
        const res = await get(q);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
        const page = res.body;
        expect(page.data.length).toBeGreaterThan(0);
        for (const listed of page.data) {
          const read = await api.request<Contact>('GET', `/v1/contacts/${listed.id}`, { key: tenantKey });
          expect(listed).toStrictEqual(read.body);
        }
      }
      const alan = (await get('?tag=eu')).body.data.find((c) => c.id === ids.alan);
      expect(alan).toMatchObject({
        score: 12.375,
        tier: 'gold',
        attributes: { nested: { a: [1, 'two', null] } },
      });
      expect((await get('?status=archived')).body.data[0]?.archived_at).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
      );
    });

    it('pages with a keyset cursor in a stable order', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: { body: Page } = await get(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.body.data.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.data.map((c) => c.id));
        cursor = res.body.next_cursor;
      } while (cursor);
      expect(seen).toEqual((await get('?limit=1000')).body.data.map((c) => c.id));
      expect(new Set(seen).size).toBe(5);
    });

    it('validates the query: limit, cursor, birthday, dates, unknown parameters', async () => {
      for (const q of [
        '?limit=0',
        '?limit=1001',
        '?limit=abc',
        '?cursor=bogus',
        '?birthday=02-30',
        '?birthday=tomorrow',
        '?created_after=yesterday',
        '?status=gone',
        '?colour=red',
        '?q=',
      ]) {
        const res = await get(q);
        expect({ q, status: res.status }).toEqual({ q, status: 400 });
        expect(res.body.errors.length).toBeGreaterThan(0);
      }
      expect((await get('?limit=1000')).status).toBe(200);
    });
  });
});
