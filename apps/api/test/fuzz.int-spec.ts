import fc from 'fast-check';
import { TestApi } from '../../../test/support/api-app';
import { fillPath, operationsOf, type Operation } from '../../../test/support/openapi-walk';

/**
 * Property-based fuzzing of every route in the OpenAPI document: bodies (mutated examples,
 * arbitrary JSON, raw text), query strings, headers and path parameters. Whatever comes in:
 * never a 5xx, errors are problem+json, a rejected request changes nothing in the database,
 * and the process keeps answering.
 */
const RUNS = Number(process.env.FUZZ_RUNS_PER_ROUTE ?? 40);

describe('fuzzing every documented route', () => {
  let api: TestApi;
  let key: string;
  let operations: Operation[];
  const ids: string[] = [];
  /** A real id for each resource's path parameter, so fuzzing reaches past the 404. */
  const seeds = new Map<string, string>();

  beforeAll(async () => {
    api = await TestApi.start({ API_KEY_LAST_USED_FLUSH_MS: '3600000' });
    ({ key } = await api.createTenant());
    ids.push(
      (await api.request<{ id: string }>('POST', '/v1/contacts', { key, body: { email: 'seed@x.io' } })).body
        .id,
    );
    ids.push(
      (
        await api.request<{ id: string }>('POST', '/v1/suppressions', {
          key,
          body: { email: 's@x.io', reason: 'manual' },
        })
      ).body.id,
    );
    const account = (
      await api.request<{ id: string }>('POST', '/v1/sender-accounts', {
        key,
        body: {
          name: 'Seed',
          channel: 'webhook',
          config: { url: 'https://s.example/h', secret: 'x'.repeat(32) },
        },
      })
    ).body.id;
    const campaign = (
      await api.request<{ id: string }>('POST', '/v1/campaigns', {
        key,
        body: { name: 'Seed', kind: 'broadcast', sender_account_id: account, steps: [{ body: 'Hi' }] },
      })
    ).body.id;
    const run = (await api.request<{ id: string }>('POST', `/v1/campaigns/${campaign}/runs`, { key })).body
      .id;
    seeds.set('/v1/sender-accounts', account);
    seeds.set('/v1/campaigns', campaign);
    seeds.set('/v1/runs', run);
    seeds.set('/v1/admin/circuits', `webhook:${account}`);
    seeds.set('/v1/admin/queues', 'system');
    operations = operationsOf(
      (await api.request<Parameters<typeof operationsOf>[0]>('GET', '/docs-json', { key: null })).body,
    );
  });
  afterAll(async () => {
    await api.close();
  });

  /** Every row of every table, as one digest. */
  const databaseDigest = async () =>
    (
      await api.query<{ digest: string }>(
        `SELECT md5(concat_ws('|',
           (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM tenants t),
           (SELECT string_agg(k::text, ',' ORDER BY k::text) FROM api_keys k),
           (SELECT string_agg(c::text, ',' ORDER BY c::text) FROM contacts c),
           (SELECT string_agg(i::text, ',' ORDER BY i::text) FROM interactions i),
           (SELECT string_agg(s::text, ',' ORDER BY s::text) FROM suppressions s),
           (SELECT string_agg(x::text, ',' ORDER BY x::text) FROM idempotency_keys x),
           (SELECT string_agg(a::text, ',' ORDER BY a::text) FROM sender_accounts a),
           (SELECT string_agg(g::text, ',' ORDER BY g::text) FROM campaigns g),
           (SELECT string_agg(r::text, ',' ORDER BY r::text) FROM campaign_runs r),
           (SELECT string_agg(d::text, ',' ORDER BY d::text) FROM deliveries d),
           (SELECT string_agg(o::text, ',' ORDER BY o::text) FROM outbox o))) AS digest`,
      )
    )[0]!.digest;

  const headerText = fc.string({ unit: fc.constantFrom(...'abcXYZ019-_:./ +=;"'.split('')), maxLength: 40 });
  const weirdText = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.constantFrom(
      '',
      ' ',
      '%',
      '%00',
      '../',
      'null',
      'true',
      '-1',
      '1e309',
      "' OR 1=1 --",
      '<script>',
      '\u0000',
      'today',
      '02-29',
      '9999-99-99',
    ),
  );

  const mutate = (example: unknown): fc.Arbitrary<unknown> => {
    if (example === null || typeof example !== 'object' || Array.isArray(example)) return fc.jsonValue();
    const keys = Object.keys(example);
    return fc.oneof(
      fc.constant(example),
      fc
        .record({ k: fc.constantFrom(...keys), v: fc.jsonValue({ maxDepth: 2 }) })
        .map(({ k, v }) => ({ ...example, [k]: v })),
      fc.record({ k: fc.constantFrom(...keys), v: weirdText }).map(({ k, v }) => ({ ...example, [k]: v })),
      fc
        .constantFrom(...keys)
        .map((k) => Object.fromEntries(Object.entries(example).filter(([key]) => key !== k))),
      fc
        .record({ k: fc.string({ maxLength: 10 }), v: fc.jsonValue({ maxDepth: 1 }) })
        .map(({ k, v }) => ({ ...example, [k]: v })),
    );
  };

  const bodyFor = (op: Operation): fc.Arbitrary<{ raw?: string; json?: unknown } | undefined> => {
    if (op.method === 'GET' || op.method === 'DELETE') return fc.constant(undefined);
    const arbitrary: fc.Arbitrary<{ raw?: string; json?: unknown } | undefined>[] = [
      mutate(op.bodyExample).map((json) => ({ json })),
      fc.jsonValue({ maxDepth: 3 }).map((json) => ({ json })),
      weirdText.map((raw) => ({ raw })),
      fc.constant(undefined),
    ];
    if (Array.isArray(op.bodyExample)) {
      arbitrary.push(fc.array(mutate(op.bodyExample[0]), { maxLength: 8 }).map((json) => ({ json })));
    }
    if (op.csvExample !== undefined) {
      const cell = fc.oneof(weirdText, fc.constantFrom('a@x.io', '"q,"', '""', '"', '\r\n', ';', 'vip;eu'));
      arbitrary.push(
        fc
          .tuple(
            fc.subarray(
              ['email', 'external_ref', 'first_name', 'tags', 'attributes', 'attributes.x', 'bogus'],
              { minLength: 1 },
            ),
            fc.array(fc.array(cell, { maxLength: 8 }), { maxLength: 6 }),
          )
          .map(([header, rows]) => ({
            raw: [header.join(','), ...rows.map((r) => r.join(','))].join(
              fc.sample(fc.constantFrom('\n', '\r\n'), 1)[0],
            ),
          })),
      );
    }
    return fc.oneof(...arbitrary);
  };

  const queryFor = (op: Operation) =>
    fc
      .array(
        fc.tuple(
          fc.oneof(
            fc.constantFrom(...(op.queryParams.length ? op.queryParams : ['x'])),
            fc.string({ maxLength: 8 }),
          ),
          weirdText,
        ),
        { maxLength: 5 },
      )
      .map((pairs) => {
        const q = new URLSearchParams();
        for (const [k, v] of pairs) q.append(k, v);
        return q.size ? `?${q.toString()}` : '';
      });

  const pathValue = fc.oneof(
    fc.constantFrom(...['0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f']),
    weirdText,
    fc.uuid(),
    fc.constant('__seed__'),
  );

  const headersArb = fc.record(
    {
      'content-type': fc.constantFrom(
        'application/json',
        'text/csv',
        'text/plain',
        'application/json; charset=utf-16',
        'application/merge-patch+json',
        'garbage',
        'multipart/form-data; boundary=x',
      ),
      'idempotency-key': headerText,
      'x-request-id': headerText,
      accept: fc.constantFrom('application/json', 'text/html', '*/*'),
    },
    { requiredKeys: [] },
  );

  it.each(['POST', 'GET', 'PATCH', 'DELETE'])(
    'never answers 5xx and leaves the database alone when it refuses (%s routes)',
    async (method) => {
      const ops = operations.filter((op) => op.method === method);
      expect(ops.length).toBeGreaterThan(0);
      for (const op of ops) {
        await fc.assert(
          fc.asyncProperty(
            bodyFor(op),
            queryFor(op),
            pathValue,
            headersArb,
            async (body, query, idValue, headers) => {
              const seed = [...seeds].find(([prefix]) => op.path.startsWith(prefix))?.[1] ?? ids[0]!;
              const value = idValue === '__seed__' ? seed : idValue;
              const path =
                fillPath(op.path, Object.fromEntries(op.pathParams.map((p) => [p, value]))) + query;
              const before = await databaseDigest();
              const res = await api.request<{ type?: string }>(op.method, path, {
                key,
                headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
                ...(body?.raw !== undefined
                  ? { raw: body.raw }
                  : body?.json !== undefined
                    ? { raw: JSON.stringify(body.json) }
                    : {}),
              });
              expect({ op: op.name, path, status: res.status < 500 }).toEqual({
                op: op.name,
                path,
                status: true,
              });
              if (res.status >= 400) {
                expect(res.headers.get('content-type')).toContain('application/problem+json');
                expect(res.body.type).toMatch(/^https:\/\/herald\.dev\/problems\//);
                expect({ op: op.name, path, changed: (await databaseDigest()) !== before }).toEqual({
                  op: op.name,
                  path,
                  changed: false,
                });
              }
            },
          ),
          { numRuns: RUNS },
        );
      }
      expect((await fetch(`${api.url}/health`)).status).toBe(200);
    },
  );
});
