import { TestApi } from '../../../test/support/api-app';

type Problem = { type: string; status: number; errors: { field: string; message: string }[] };
type ImportResult = {
  created: number;
  failed: number;
  errors: { row: number; field: string; message: string }[];
};

/** `n` nested objects `{"a":{"a":…1}}`, as text (JSON.stringify would itself overflow on deep ones). */
const deepObject = (n: number, inner = '1') => `${'{"a":'.repeat(n)}${inner}${'}'.repeat(n)}`;
const deepArray = (n: number, inner = '1') => `${'['.repeat(n)}${inner}${']'.repeat(n)}`;
const VALIDATION_FAILED = 'https://herald.dev/problems/validation-failed';

describe('JSON text the API refuses before parsing: too deep (API_JSON_MAX_DEPTH), or strings Postgres cannot store', () => {
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

  const post = (path: string, raw: string, headers: Record<string, string> = {}) =>
    api.request<Problem & ImportResult>('POST', path, {
      key,
      raw,
      headers: { 'content-type': 'application/json', ...headers },
    });

  it('accepts 32 levels and refuses 33 with a 400 naming the too-deep field, before anything parses the body', async () => {
    // The contact is level 1, attributes level 2: 30 more objects inside make 32.
    const ok = await post('/v1/contacts', `{"email":"ok@x.io","attributes":{"k":${deepObject(30)}}}`);
    expect(ok.status).toBe(201);

    const cases: [attributes: string, field: string][] = [
      [`{"k":${deepObject(31)}}`, `attributes.k${'.a'.repeat(30)}`],
      [`{"k":${deepObject(10_000)}}`, `attributes.k${'.a'.repeat(30)}`],
      [`{"list":[1,${deepArray(10_000)}]}`, `attributes.list.1${'.0'.repeat(29)}`],
    ];
    for (const [attributes, field] of cases) {
      const res = await post('/v1/contacts', `{"email":"deep@x.io","attributes":${attributes}}`, {
        'idempotency-key': `deep-${field.length}-${attributes.length}`,
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body).toMatchObject({
        type: VALIDATION_FAILED,
        errors: [{ field, message: 'is nested deeper than 32 levels of arrays and objects' }],
      });
    }
    const stored = await api.query<{ email: string }>('SELECT email FROM contacts WHERE tenant_id = $1', [
      tenantId,
    ]);
    expect(stored.map((c) => c.email)).toEqual(['ok@x.io']);
    expect(await api.query('SELECT 1 FROM idempotency_keys WHERE key LIKE $1', ['deep-%'])).toEqual([]);
  });

  it('names the path for a deep top-level array or object, and for a body that never closes', async () => {
    expect((await post('/v1/contacts', deepArray(100_000))).body.errors).toEqual([
      { field: Array(32).fill('0').join('.'), message: expect.any(String) as string },
    ]);
    expect((await post('/v1/contacts', '{"email":'.concat('['.repeat(200_000)))).body).toMatchObject({
      type: VALIDATION_FAILED,
      errors: [{ field: `email${'.0'.repeat(31)}` }],
    });
    const sequence = await post(
      '/v1/events',
      `{"type":"reply","email":"a@x.io","payload":${deepObject(50_000)}}`,
    );
    expect(sequence.status).toBe(400);
    expect(sequence.body.errors[0]!.field).toMatch(/^payload\.a\.a/);
  });

  it('gives import rows the same limit: the deep row is reported (row and field), the others are imported', async () => {
    const json = await post(
      '/v1/contacts/import',
      `[{"email":"i1@x.io"},{"email":"i2@x.io","attributes":{"k":${deepObject(10_000)}}},{"email":"i3@x.io","attributes":{"k":${deepObject(30)}}}]`,
    );
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({
      created: 2,
      failed: 1,
      errors: [
        {
          row: 2,
          field: `attributes.k${'.a'.repeat(30)}`,
          message: expect.stringMatching(/deeper than 32/) as string,
        },
      ],
    });
    const cell = `"${deepObject(10_000).replaceAll('"', '""')}"`;
    const csv = await api.request<ImportResult>('POST', '/v1/contacts/import', {
      key,
      raw: `email,attributes\r\nc1@x.io,${cell}\r\nc2@x.io,"{""a"":[]}"\r\n`,
      headers: { 'content-type': 'text/csv' },
    });
    expect(csv.status).toBe(200);
    expect(csv.body).toMatchObject({
      created: 1,
      failed: 1,
      errors: [{ row: 1, field: `attributes${'.a'.repeat(31)}` }],
    });
  });

  it('refuses strings Postgres cannot store (NUL, unpaired surrogates) with a 400 naming the field, on every kind of body', async () => {
    const contact = (await post('/v1/contacts', '{"email":"nul@x.io"}')).body as unknown as { id: string };
    const nul = 'must not contain the NUL character (\\u0000)';
    const lone = 'must not contain an unpaired UTF-16 surrogate (\\uD800-\\uDFFF)';
    // Each of these answered 500 (a jsonb or text column refusing the value) before.
    const cases: [method: string, path: string, raw: string, field: string, message: string][] = [
      ['POST', '/v1/contacts', '{"email":"n1@x.io","attributes":{"a":"x\\u0000"}}', 'attributes.a', nul],
      ['POST', '/v1/contacts', '{"email":"n1@x.io","attributes":{"a\\u0000":1}}', 'attributes.a\u0000', nul],
      ['PATCH', `/v1/contacts/${contact.id}`, '{"attributes":{"a":["\\ud800"]}}', 'attributes.a.0', lone],
      [
        'POST',
        '/v1/interactions',
        `{"contact_id":"${contact.id}","type":"note","payload":{"text":"\\udc00"}}`,
        'payload.text',
        lone,
      ],
      [
        'POST',
        '/v1/events',
        '{"type":"reply","email":"nul@x.io","payload":{"text":"x\\ud83d"}}',
        'payload.text',
        lone,
      ],
      ['POST', '/v1/suppressions', '{"email":"q@x.io","reason":"manual","note":"n\\u0000"}', 'note', nul],
    ];
    for (const [method, path, raw, field, message] of cases) {
      const res = await api.request<Problem>(method, path, {
        key,
        raw,
        headers: { 'content-type': 'application/json' },
      });
      expect({ path, status: res.status, type: res.body.type, errors: res.body.errors }).toEqual({
        path,
        status: 400,
        type: VALIDATION_FAILED,
        errors: [{ field, message }],
      });
    }
    expect(await api.query('SELECT 1 FROM suppressions WHERE tenant_id = $1', [tenantId])).toEqual([]);
    expect(await api.query('SELECT 1 FROM interactions WHERE tenant_id = $1', [tenantId])).toEqual([]);
    // A pair (an emoji) is a character like any other.
    expect(
      (await post('/v1/contacts', '{"email":"pair@x.io","attributes":{"a":"\\ud83d\\ude00"}}')).status,
    ).toBe(201);

    const json = await post(
      '/v1/contacts/import',
      '[{"email":"j1@x.io","attributes":{"a":"\\u0000"}},{"email":"j2@x.io"}]',
    );
    expect(json.body).toMatchObject({
      created: 1,
      failed: 1,
      errors: [{ row: 1, field: 'attributes.a', message: nul }],
    });
    const csv = await api.request<ImportResult>('POST', '/v1/contacts/import', {
      key,
      raw: 'email,attributes.plan\r\nc3@x.io,p\u0000ro\r\nc4@x.io,pro\r\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(csv.body).toMatchObject({
      created: 1,
      failed: 1,
      errors: [{ row: 1, field: 'attributes.plan', message: nul }],
    });
  });

  it('takes its limit from API_JSON_MAX_DEPTH', async () => {
    const shallow = await TestApi.start({ API_JSON_MAX_DEPTH: '3' });
    try {
      const { key: k } = await shallow.createTenant();
      const send = (raw: string) =>
        shallow.request<Problem>('POST', '/v1/contacts', {
          key: k,
          raw,
          headers: { 'content-type': 'application/json' },
        });
      expect((await send('{"email":"a@x.io","attributes":{"k":{"x":1}}}')).status).toBe(201);
      const res = await send('{"email":"b@x.io","attributes":{"k":{"x":[]}}}');
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([
        { field: 'attributes.k.x', message: 'is nested deeper than 3 levels of arrays and objects' },
      ]);
    } finally {
      await shallow.close();
    }
  });
});
