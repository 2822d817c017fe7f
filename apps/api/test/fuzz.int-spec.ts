import type { Express } from 'express';
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

// Hundreds of generated requests per route, growing with the API: a bound for a loaded machine, not a timing.
jest.setTimeout(300_000);

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

  describe('JSON text refused before parsing: deep nesting, strings Postgres cannot store', () => {
    const MAX_DEPTH = 32;
    const DEEP_MESSAGE = `is nested deeper than ${MAX_DEPTH} levels of arrays and objects`;

    /** Containers `depth` deep, cycling through `kinds`, objects keyed `key`; left open unless `closed`. */
    interface Nesting {
      depth: number;
      kinds: ('[' | '{')[];
      key: string;
      closed: boolean;
    }
    const nestings: fc.Arbitrary<Nesting> = fc.record({
      depth: fc.integer({ min: MAX_DEPTH + 1, max: 10_000 }),
      kinds: fc.array(fc.constantFrom<'[' | '{'>('[', '{'), { minLength: 1, maxLength: 4 }),
      key: fc.string({ maxLength: 3 }),
      closed: fc.boolean(),
    });
    const fixed = (kind: '[' | '{'): Nesting => ({ depth: 10_000, kinds: [kind], key: 'a', closed: true });

    /** As text, built flat: JSON.stringify would itself overflow the stack on such a value. */
    const textOf = (n: Nesting): string => {
      const open: string[] = [];
      const close: string[] = [];
      for (let i = 0; i < n.depth; i++) {
        const array = n.kinds[i % n.kinds.length] === '[';
        open.push(array ? '[' : `{${JSON.stringify(n.key)}:`);
        close.push(array ? ']' : '}');
      }
      return `${open.join('')}1${n.closed ? close.reverse().join('') : ''}`;
    };
    /** The dotted path of the first container past MAX_DEPTH, for a nesting under the fields of `prefix`. */
    const pathOf = (n: Nesting, prefix: string[]): string =>
      [
        ...prefix,
        ...Array.from({ length: MAX_DEPTH - prefix.length }, (_, i) =>
          n.kinds[i % n.kinds.length] === '[' ? '0' : n.key,
        ),
      ].join('.');
    /** `base` (an example body) with `field` set to `value` (raw JSON text). */
    const withField = (base: unknown, field: string, value: string): string => {
      const rest =
        base !== null && typeof base === 'object' && !Array.isArray(base)
          ? JSON.stringify(Object.fromEntries(Object.entries(base).filter(([k]) => k !== field)))
          : '{}';
      return `{${JSON.stringify(field)}:${value}${rest === '{}' ? '}' : `,${rest.slice(1)}`}`;
    };

    const keyFor = (op: Operation) => (op.access === 'platform' ? undefined : key);
    const pathFor = (op: Operation) => {
      const seed = [...seeds].find(([prefix]) => op.path.startsWith(prefix))?.[1] ?? ids[0]!;
      return fillPath(op.path, Object.fromEntries(op.pathParams.map((p) => [p, seed])));
    };
    type Answer = {
      type?: string;
      errors?: { row?: number; field: string; message: string }[];
      created?: number;
    };
    const send = (op: Operation, raw: string, headers: Record<string, string> = {}) =>
      api.request<Answer>(op.method, pathFor(op), {
        key: keyFor(op),
        raw,
        headers: { 'content-type': 'application/json', ...headers },
      });
    const expectProblem = (op: Operation, res: { status: number; headers: Headers; body: Answer }) => {
      expect({ op: op.name, status: res.status < 500 }).toEqual({ op: op.name, status: true });
      if (res.status >= 400) {
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.body.type).toMatch(/^https:\/\/herald\.dev\/problems\//);
      }
    };

    it('every operation that takes a JSON body answers 400 naming the field, for bodies nested up to 10,000 deep', async () => {
      const withBody = operations.filter((op) => op.body !== undefined);
      expect(withBody.map((op) => op.name)).toEqual(
        expect.arrayContaining(['POST /v1/contacts', 'PATCH /v1/contacts/{id}', 'POST /v1/contacts/import']),
      );
      for (const op of withBody) {
        const body = op.body!;
        const example: unknown = body.array ? (op.bodyExample as unknown[] | undefined)?.[0] : op.bodyExample;
        const before = await databaseDigest();
        /** The body with `nesting` in `field` (or as the whole body), and the path the 400 must name. */
        const placed = (nesting: Nesting, field: string | undefined) => {
          const text = textOf(nesting);
          if (field === undefined) return { raw: text, field: pathOf(nesting, []) };
          const row = withField(example, field, text);
          return { raw: body.array ? `[${row}]` : row, field: pathOf(nesting, [field]) };
        };
        const check = async (raw: string, field: string, top: boolean) => {
          // With a key on a refused request, nothing may be recorded either (an import's 200 is kept: not sent there).
          const res = await send(
            op,
            raw,
            body.array ? {} : { 'idempotency-key': `deep-${field.length}-${raw.length}` },
          );
          expectProblem(op, res);
          if (!body.array) {
            expect({ op: op.name, status: res.status, type: res.body.type, errors: res.body.errors }).toEqual(
              {
                op: op.name,
                status: 400,
                type: 'https://herald.dev/problems/validation-failed',
                errors: [{ field, message: DEEP_MESSAGE }],
              },
            );
          } else if (res.status === 200) {
            // A streamed import: the deep row is a row error (the body, when it is no array, a 400).
            expect(res.body.created).toBe(0);
            expect(res.body.errors).toEqual([
              { row: 1, field: top ? (expect.any(String) as string) : field, message: DEEP_MESSAGE },
            ]);
          } else {
            expect(res.status).toBe(400);
          }
        };
        for (const field of [undefined, ...body.fields]) {
          for (const kind of ['[', '{'] as const) {
            const { raw, field: path } = placed(fixed(kind), field);
            await check(raw, path, field === undefined);
          }
        }
        await fc.assert(
          fc.asyncProperty(nestings, fc.constantFrom(undefined, ...body.fields), async (nesting, field) => {
            const { raw, field: path } = placed(nesting, field);
            await check(raw, path, field === undefined);
          }),
          { numRuns: 10 },
        );
        expect({ op: op.name, changed: (await databaseDigest()) !== before }).toEqual({
          op: op.name,
          changed: false,
        });
      }
      expect((await fetch(`${api.url}/health`)).status).toBe(200);
    });

    it('every operation that takes a JSON body answers 400 naming the field for strings Postgres cannot store', async () => {
      const nul = 'must not contain the NUL character (\\u0000)';
      const lone = 'must not contain an unpaired UTF-16 surrogate (\\uD800-\\uDFFF)';
      // A value for any field, the path under the field the 400 must name, and why.
      const values: [raw: string, under: string, message: string][] = [
        ['"a\\u0000b"', '', nul],
        ['"\\ud800"', '', lone],
        ['{"x":"ok\\udc00"}', '.x', lone],
        ['["ok","\\u0000"]', '.1', nul],
      ];
      for (const op of operations.filter((o) => o.body !== undefined)) {
        const body = op.body!;
        const example: unknown = body.array ? (op.bodyExample as unknown[] | undefined)?.[0] : op.bodyExample;
        const before = await databaseDigest();
        for (const field of body.fields) {
          for (const [value, under, message] of values) {
            const row = withField(example, field, value);
            const res = await send(op, body.array ? `[${row}]` : row);
            expectProblem(op, res);
            const expected = [{ ...(body.array ? { row: 1 } : {}), field: field + under, message }];
            expect({ op: op.name, status: res.status, errors: res.body.errors }).toEqual({
              op: op.name,
              status: body.array ? 200 : 400,
              errors: expected,
            });
          }
        }
        expect({ op: op.name, changed: (await databaseDigest()) !== before }).toEqual({
          op: op.name,
          changed: false,
        });
      }
    });

    it('imports report deep JSON rows and deep CSV attribute cells as row errors, and keep the other rows', async () => {
      const { key: own, id: tenantId } = await api.createTenant('Deep imports');
      const importing = (raw: string, type: string) =>
        api.request<Answer>('POST', '/v1/contacts/import', {
          key: own,
          raw,
          headers: { 'content-type': type },
        });
      await fc.assert(
        fc.asyncProperty(nestings, fc.integer({ min: 0, max: 3 }), async (nesting, at) => {
          const deep = textOf({ ...nesting, closed: true });
          const rows = Array.from({ length: 4 }, (_, i) =>
            i === at ? `{"email":"deep${i}@x.io","attributes":{"k":${deep}}}` : `{"email":"ok${i}@x.io"}`,
          );
          const json = await importing(`[${rows.join(',')}]`, 'application/json');
          expect(json.status).toBe(200);
          expect(json.body.errors).toEqual([
            { row: at + 1, field: pathOf(nesting, ['attributes', 'k']), message: DEEP_MESSAGE },
          ]);
          const cells = Array.from({ length: 4 }, (_, i) =>
            i === at ? `deep${i}@x.io,"${deep.replaceAll('"', '""')}"` : `ok${i}@x.io,`,
          );
          const csv = await importing(`email,attributes\r\n${cells.join('\r\n')}\r\n`, 'text/csv');
          expect(csv.status).toBe(200);
          expect(csv.body.errors).toEqual([
            { row: at + 1, field: pathOf(nesting, ['attributes']), message: DEEP_MESSAGE },
          ]);
        }),
        { numRuns: 15 },
      );
      const stored = await api.query<{ email: string }>(
        'SELECT email FROM contacts WHERE tenant_id = $1 ORDER BY email',
        [tenantId],
      );
      expect(stored.map((c) => c.email)).toEqual(['ok0@x.io', 'ok1@x.io', 'ok2@x.io', 'ok3@x.io']);
    });

    it('query strings stay flat: a deeply bracketed key is a key like any other, never a nested value', async () => {
      // Express 5's default ('simple', node:querystring) never nests; qs ('extended') would.
      const express: Express = api.app.getHttpAdapter().getInstance();
      expect(express.get('query parser')).toBe('simple');
      const brackets = '[a]'.repeat(2000);
      let refusedWhole = 0;
      for (const op of operations.filter((o) => o.method === 'GET')) {
        const name = op.queryParams[0] ?? 'x';
        const query = `?${name}${brackets}=1&${name}${brackets}=2`;
        const res = await api.request<Answer>(op.method, pathFor(op) + query, { key: keyFor(op) });
        expectProblem(op, res);
        if (op.queryParams.length > 0 && res.status === 400) {
          // Refused as an unknown key, whole: the parser did not turn it into nested objects.
          expect(res.body.errors?.map((e) => e.field)).toContain(`${name}${brackets}`);
          refusedWhole += 1;
        }
      }
      expect(refusedWhole).toBeGreaterThan(0);
      // Past Node's 16 KB of headers the HTTP parser itself refuses: 431, still a problem+json.
      const huge = await api.request<{ status: number; type: string }>(
        'GET',
        `/v1/contacts?x${'[a]'.repeat(10_000)}=1`,
        { key },
      );
      expect(huge.status).toBe(431);
      expect(huge.headers.get('content-type')).toBe('application/problem+json');
      expect(huge.body).toMatchObject({ status: 431, type: 'https://herald.dev/problems/headers-too-large' });
      expect((await fetch(`${api.url}/health`)).status).toBe(200);
    });
  });
});
