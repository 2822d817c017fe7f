import { TestApi } from '../../../test/support/api-app';

type ImportResult = {
  created: number;
  updated: number;
  failed: number;
  errors: { row: number; field: string; message: string }[];
  errors_truncated: boolean;
};
type Problem = { type: string; status: number; errors: { field: string; message: string }[] };

describe('POST /v1/contacts/import', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await TestApi.start({ IMPORT_BODY_LIMIT: '2mb' });
  });
  afterAll(async () => {
    await api.close();
  });

  async function tenant() {
    const t = await api.createTenant();
    const csv = (text: string) =>
      api.request<ImportResult & Problem>('POST', '/v1/contacts/import', {
        key: t.key,
        raw: text,
        headers: { 'content-type': 'text/csv' },
      });
    const json = (rows: unknown) =>
      api.request<ImportResult & Problem>('POST', '/v1/contacts/import', { key: t.key, body: rows });
    const contacts = () =>
      api.query<{
        email: string | null;
        external_ref: string | null;
        first_name: string | null;
        last_name: string | null;
        tags: string[];
        attributes: Record<string, unknown>;
        status: string;
      }>(
        'SELECT email, external_ref, first_name, last_name, tags, attributes, status FROM contacts WHERE tenant_id = $1 ORDER BY created_at, id',
        [t.id],
      );
    return { ...t, csv, json, contacts };
  }

  it('keeps good rows and reports bad ones (row, field, message) in a JSON array', async () => {
    const t = await tenant();
    const res = await t.json([
      { email: 'a@x.io', first_name: 'A' },
      { email: 'not-an-email', first_name: 'B' },
      'a string',
      { email: 'c@x.io', colour: 'red' },
      { first_name: 'No identity' },
      { external_ref: 'ref-d', birth_date: '1990-02-30', status: 'gone' },
      { external_ref: 'ref-e', tags: ['x'] },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      created: 2,
      updated: 0,
      failed: 5,
      errors: [
        { row: 2, field: 'email', message: 'must be an email address' },
        { row: 3, field: '', message: 'must be a JSON object' },
        { row: 4, field: 'colour', message: 'is not a known field' },
        { row: 5, field: 'email', message: 'a contact needs an email or an external_ref' },
        { row: 6, field: 'birth_date', message: expect.any(String) as string },
        { row: 6, field: 'status', message: expect.any(String) as string },
      ],
      errors_truncated: false,
    });
    expect((await t.contacts()).map((c) => c.email ?? c.external_ref)).toEqual(['a@x.io', 'ref-e']);
  });

  it('upserts by email then external_ref; within a file later rows win; absent fields keep their value', async () => {
    const t = await tenant();
    const first = await t.json([
      {
        email: 'ada@x.io',
        external_ref: 'crm-1',
        first_name: 'Ada',
        last_name: 'L',
        tags: ['a'],
        attributes: { plan: 'pro', seats: 2 },
      },
    ]);
    expect(first.body).toMatchObject({ created: 1, updated: 0, failed: 0 });
    const second = await t.json([
      { email: 'ADA@x.io', last_name: 'Lovelace', attributes: { seats: null, region: 'eu' } },
      { external_ref: 'crm-1', tags: ['b'] },
      { email: 'new@x.io', first_name: 'New' },
      { email: 'new@x.io', first_name: 'Newer', external_ref: 'crm-2' },
      { external_ref: 'crm-2', last_name: 'Last' },
      { email: 'ada@x.io', external_ref: 'crm-2' },
    ]);
    expect(second.body).toMatchObject({ created: 1, updated: 4, failed: 1 });
    expect(second.body.errors).toEqual([
      { row: 6, field: 'external_ref', message: 'belongs to a different contact than the email' },
    ]);
    expect(await t.contacts()).toEqual([
      {
        email: 'ada@x.io',
        external_ref: 'crm-1',
        first_name: 'Ada',
        last_name: 'Lovelace',
        tags: ['b'],
        attributes: { plan: 'pro', region: 'eu' },
        status: 'active',
      },
      {
        email: 'new@x.io',
        external_ref: 'crm-2',
        first_name: 'Newer',
        last_name: 'Last',
        tags: [],
        attributes: {},
        status: 'active',
      },
    ]);
    // Moving an identifier: matched by external_ref, the row changes the email.
    const moved = await t.json([
      { external_ref: 'crm-2', email: 'moved@x.io' },
      { email: 'new@x.io', first_name: 'Fresh' },
    ]);
    expect(moved.body).toMatchObject({ created: 1, updated: 1, failed: 0 });
    expect((await t.contacts()).map((c) => [c.email, c.first_name])).toEqual([
      ['ada@x.io', 'Ada'],
      ['moved@x.io', 'Newer'],
      ['new@x.io', 'Fresh'],
    ]);
  });

  it('reads CSV: BOM, CRLF, quoting (commas, quotes, newlines), tags, attributes columns, duplicates', async () => {
    const t = await tenant();
    const body =
      '\ufeffEmail,first_name,last_name,tags,attributes.plan,birth_date\r\n' +
      'a@x.io,Ada,"Lovelace, Countess",vip;eu,pro,1985-12-10\r\n' +
      'b@x.io,"Bob ""the builder""",,,"multi\r\nline",\r\n' +
      'bad-email,C,,,,\r\n' +
      'a@x.io,Ada2,,,,\r\n' +
      'd@x.io,D,too,many,cells,here,x\r\n';
    const res = await t.csv(body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ created: 2, updated: 1, failed: 2 });
    expect(res.body.errors.map((e) => [e.row, e.field])).toEqual([
      [3, 'email'],
      [5, ''],
    ]);
    expect(await t.contacts()).toEqual([
      {
        email: 'a@x.io',
        external_ref: null,
        first_name: 'Ada2',
        last_name: 'Lovelace, Countess',
        tags: ['vip', 'eu'],
        attributes: { plan: 'pro' },
        status: 'active',
      },
      {
        email: 'b@x.io',
        external_ref: null,
        first_name: 'Bob "the builder"',
        last_name: null,
        tags: [],
        attributes: { plan: 'multi\r\nline' },
        status: 'active',
      },
    ]);
  });

  it('imports nothing, successfully, from an empty file or a header alone', async () => {
    const t = await tenant();
    for (const body of ['', '\ufeff', 'email,first_name\r\n']) {
      const res = await t.csv(body);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ created: 0, updated: 0, failed: 0, errors: [], errors_truncated: false });
    }
    expect((await t.json([])).body).toMatchObject({ created: 0 });
  });

  it('refuses a body it cannot read as a whole: 400 and nothing imported', async () => {
    const t = await tenant();
    const bad = await api.request<Problem>('POST', '/v1/contacts/import', {
      key: t.key,
      raw: '[{"email":"kept@x.io"}, {"email":',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.type).toBe('https://herald.dev/problems/malformed-json');
    expect((await t.json({ email: 'a@x.io' })).status).toBe(400);
    const header = await t.csv('email,colour\nx@x.io,red\n');
    expect(header.status).toBe(400);
    expect(header.body.errors).toEqual([
      { field: 'colour', message: expect.stringContaining('not a known column') as string },
    ]);
    expect(await t.contacts()).toEqual([]);
  });

  it('answers 415 for other content types and 413 past IMPORT_BODY_LIMIT (streamed or declared)', async () => {
    const t = await tenant();
    const plain = await api.request<Problem>('POST', '/v1/contacts/import', {
      key: t.key,
      raw: 'email\na@x.io',
      headers: { 'content-type': 'text/plain' },
    });
    expect(plain.status).toBe(415);
    const rows = Array.from({ length: 40_000 }, (_, i) => ({
      email: `user${i}@example.com`,
      first_name: 'Someone',
    }));
    const big = await t.json(rows);
    expect(big.status).toBe(413);
    expect(await t.contacts()).toEqual([]);
    // Chunked (no Content-Length): caught while streaming, and what was read is rolled back.
    const text = Buffer.from(JSON.stringify(rows));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < text.length; i += 65_536) controller.enqueue(text.subarray(i, i + 65_536));
        controller.close();
      },
    });
    // Node's fetch streams a request body only with duplex: 'half' (not yet in the DOM RequestInit type).
    const init: RequestInit & { duplex: 'half' } = {
      method: 'POST',
      headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    };
    const res = await fetch(`${api.url}/v1/contacts/import`, init).catch((error: unknown) => error);
    if (res instanceof Response) expect(res.status).toBe(413);
    expect(await t.contacts()).toEqual([]);
  });

  it('two concurrent imports of the same contacts make each contact once', async () => {
    const t = await tenant();
    const rows = (offset: number) =>
      Array.from({ length: 3000 }, (_, i) => ({
        email: `shared${i + offset}@example.com`,
        first_name: `N${offset}`,
      }));
    const [a, b] = await Promise.all([t.json(rows(0)), t.json(rows(1500))]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.failed + b.body.failed).toBe(0);
    expect(a.body.created + b.body.created).toBe(4500);
    expect(a.body.updated + b.body.updated).toBe(1500);
    const count = await api.query<{ n: string }>('SELECT count(*) AS n FROM contacts WHERE tenant_id = $1', [
      t.id,
    ]);
    expect(Number(count[0]!.n)).toBe(4500);
  });

  it('imports 20,000 rows in one request (chunked writes) and caps the error report', async () => {
    const t = await tenant();
    const rows = Array.from({ length: 20_000 }, (_, i) =>
      i % 2 === 0 ? { email: `ok${i}@example.com`, tags: ['bulk'] } : { email: `bad${i}` },
    );
    const res = await t.json(rows);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ created: 10_000, updated: 0, failed: 10_000, errors_truncated: false });
    expect(res.body.errors).toHaveLength(10_000);
    const again = await t.json(rows.slice(0, 100));
    expect(again.body).toMatchObject({ created: 0, updated: 50, failed: 50 });
  });
});
