import { TestApi } from '../../../test/support/api-app';

type ImportResult = {
  created: number;
  updated: number;
  failed: number;
  errors: { row: number; field: string; message: string }[];
};
type Problem = { type: string; errors: { field: string; message: string }[] };
type Stored = { email: string; first_name: string | null; attributes: Record<string, unknown> };

/** `n` attributes named `<prefix>0…`, each `value`. */
const attrs = (prefix: string, n: number, value: unknown = 1) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, value]));

describe('attribute caps (100 keys, 16 KB) hold for the merged contact', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(async () => {
    await api.close();
  });

  async function tenant() {
    const t = await api.createTenant();
    const create = async (body: Record<string, unknown>) => {
      const res = await api.request<{ id: string }>('POST', '/v1/contacts', { key: t.key, body });
      expect(res.status).toBe(201);
      return res.body.id;
    };
    const json = (rows: unknown[]) =>
      api.request<ImportResult>('POST', '/v1/contacts/import', { key: t.key, body: rows });
    const csv = (text: string) =>
      api.request<ImportResult>('POST', '/v1/contacts/import', {
        key: t.key,
        raw: text,
        headers: { 'content-type': 'text/csv' },
      });
    const patch = (id: string, body: unknown) =>
      api.request<Problem & Stored>('PATCH', `/v1/contacts/${id}`, { key: t.key, body });
    const contact = async (email: string) =>
      (
        await api.query<Stored>(
          'SELECT email, first_name, attributes FROM contacts WHERE tenant_id = $1 AND email = $2',
          [t.id, email],
        )
      )[0];
    return { create, json, csv, patch, contact };
  }

  it('import: a row that would push an existing contact past 100 keys is refused, the contact unchanged', async () => {
    const t = await tenant();
    await t.create({ email: 'full@x.io', first_name: 'Before', attributes: attrs('old', 60) });
    await t.create({ email: 'other@x.io', attributes: attrs('old', 99) });
    const res = await t.json([
      { email: 'full@x.io', first_name: 'After', attributes: attrs('new', 50) },
      { email: 'other@x.io', attributes: { old0: null, extra: 'yes' } },
      { email: 'new@x.io', attributes: attrs('a', 100) },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      created: 1,
      updated: 1,
      failed: 1,
      errors: [{ row: 1, field: 'attributes', message: 'would have 110 keys after merging (at most 100)' }],
    });
    expect(await t.contact('full@x.io')).toEqual({
      email: 'full@x.io',
      first_name: 'Before',
      attributes: attrs('old', 60),
    });
    // Removing a key makes room for another: 99 - 1 + 1.
    const other = (await t.contact('other@x.io'))!.attributes;
    expect(Object.keys(other)).toHaveLength(99);
    expect(other).toMatchObject({ extra: 'yes' });
    expect(Object.keys((await t.contact('new@x.io'))!.attributes)).toHaveLength(100);
  });

  it('import: rows of one file merge in order, and the one that would break a cap is the one refused', async () => {
    const t = await tenant();
    await t.create({ email: 'big@x.io', attributes: { blob: 'x'.repeat(10_000) } });
    const res = await t.json([
      { email: 'fresh@x.io', first_name: 'One', attributes: attrs('a', 60) },
      { email: 'fresh@x.io', first_name: 'Two' },
      { email: 'fresh@x.io', first_name: 'Three', attributes: attrs('b', 41) },
      { email: 'big@x.io', attributes: { more: 'y'.repeat(5_000) } },
      { email: 'big@x.io', first_name: 'Big', attributes: { most: 'z'.repeat(2_000) } },
      { email: 'fresh@x.io', attributes: { b0: 'fits' } },
    ]);
    expect(res.body).toMatchObject({
      created: 1,
      failed: 2,
      errors: [
        { row: 3, field: 'attributes', message: 'would have 101 keys after merging (at most 100)' },
        {
          row: 5,
          field: 'attributes',
          message: expect.stringMatching(
            /^would be 17\d{3} bytes as JSON after merging \(at most 16384\)$/,
          ) as string,
        },
      ],
    });
    expect(await t.contact('fresh@x.io')).toEqual({
      email: 'fresh@x.io',
      first_name: 'Two',
      attributes: { ...attrs('a', 60), b0: 'fits' },
    });
    expect(await t.contact('big@x.io')).toEqual({
      email: 'big@x.io',
      first_name: null,
      attributes: { blob: 'x'.repeat(10_000), more: 'y'.repeat(5_000) },
    });
  });

  it('import: CSV attribute columns are held to the same caps', async () => {
    const t = await tenant();
    await t.create({ email: 'c@x.io', attributes: attrs('k', 100) });
    const res = await t.csv('email,attributes.k0,attributes.extra\r\nc@x.io,changed,\r\nc@x.io,,new\r\n');
    expect(res.body).toMatchObject({
      updated: 1,
      failed: 1,
      errors: [{ row: 2, field: 'attributes', message: 'would have 101 keys after merging (at most 100)' }],
    });
    expect((await t.contact('c@x.io'))!.attributes).toEqual({ ...attrs('k', 100), k0: 'changed' });
  });

  it('PATCH: a merge past a cap is a 400 naming attributes; removing keys makes room', async () => {
    const t = await tenant();
    const id = await t.create({ email: 'p@x.io', attributes: attrs('old', 60) });
    const refused = await t.patch(id, { first_name: 'X', attributes: attrs('new', 41) });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      { field: 'attributes', message: 'would have 101 keys after merging (at most 100)' },
    ]);
    const big = await t.patch(id, { attributes: { blob: 'x'.repeat(16_000) } });
    expect(big.status).toBe(400);
    expect(big.body.errors[0]!.message).toMatch(
      /^would be \d+ bytes as JSON after merging \(at most 16384\)$/,
    );
    expect(await t.contact('p@x.io')).toEqual({
      email: 'p@x.io',
      first_name: null,
      attributes: attrs('old', 60),
    });

    const ok = await t.patch(id, { attributes: { ...attrs('old', 1, null), ...attrs('new', 41) } });
    expect(ok.status).toBe(200);
    expect(Object.keys(ok.body.attributes)).toHaveLength(100);
  });
});
