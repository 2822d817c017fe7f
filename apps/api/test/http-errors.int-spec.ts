import { TEST_ADMIN_KEY } from '@herald/testing';
import { request as httpRequest } from 'node:http';
import { TestApi } from '../../../test/support/api-app';

type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors: { field: string; message: string }[];
  request_id: string;
};

function expectProblem(
  res: { status: number; headers: Headers; body: unknown; text: string },
  status: number,
  type: string,
) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  const body = res.body as Problem;
  expect(body).toMatchObject({ type: `https://herald.dev/problems/${type}`, status });
  expect(Object.keys(body).sort()).toEqual(['detail', 'errors', 'request_id', 'status', 'title', 'type']);
  expect(body.request_id).toBe(res.headers.get('x-request-id'));
  expect(res.text).not.toMatch(/at .+\.(ts|js):\d+|QueryFailedError|TypeError|SELECT |INSERT |node_modules/);
}

describe('errors and hardening', () => {
  let api: TestApi;
  let key: string;

  beforeAll(async () => {
    api = await TestApi.start({ BODY_LIMIT: '2kb', CORS_ORIGINS: 'https://app.example.com' });
    ({ key } = await api.createTenant());
  });
  afterAll(async () => {
    await api.close();
  });

  it('404 for an unknown route, 405 with Allow for a known path with another method', async () => {
    expectProblem(await api.request('GET', '/nowhere', { key }), 404, 'not-found');
    expectProblem(await api.request('GET', '/v1/nowhere', { key }), 404, 'not-found');
    const put = await api.request('PUT', '/v1/contacts', { key, body: {} });
    expectProblem(put, 405, 'method-not-allowed');
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
    const del = await api.request('POST', '/v1/contacts/0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f', {
      key,
      body: {},
    });
    expectProblem(del, 405, 'method-not-allowed');
    expect(del.headers.get('allow')).toBe('DELETE, GET, HEAD, PATCH');
    expectProblem(await api.request('PATCH', '/v1/tenants', { body: {} }), 405, 'method-not-allowed');
  });

  it('400 for malformed JSON and unknown fields, 413 past BODY_LIMIT, 415 for other content types', async () => {
    expectProblem(
      await api.request('POST', '/v1/contacts', {
        key,
        raw: '{"email": ',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'malformed-json',
    );
    expectProblem(
      await api.request('POST', '/v1/contacts', { key, body: { email: 'a@x.io', is_admin: true } }),
      400,
      'validation-failed',
    );
    expectProblem(await api.request('POST', '/v1/contacts', { key, body: [] }), 400, 'validation-failed');
    expectProblem(
      await api.request('POST', '/v1/contacts', {
        key,
        body: { email: 'a@x.io', first_name: 'x'.repeat(4000) },
      }),
      413,
      'payload-too-large',
    );
    expectProblem(
      await api.request('POST', '/v1/contacts', {
        key,
        raw: 'email=a@x.io',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      415,
      'unsupported-media-type',
    );
    expectProblem(
      await api.request('POST', '/v1/contacts', {
        key,
        raw: '{}',
        headers: { 'content-type': 'application/json; charset=latin1' },
      }),
      415,
      'unsupported-media-type',
    );
    expectProblem(
      await api.request('POST', '/v1/contacts', { key, raw: '{}' }),
      415,
      'unsupported-media-type',
    );
    expectProblem(await api.request('POST', '/v1/contacts', { key }), 400, 'validation-failed');
  });

  it('reads nothing before authentication: a huge body without a key is a 401', async () => {
    expectProblem(
      await api.request('POST', '/v1/contacts', {
        key: null,
        raw: 'x'.repeat(100_000),
        headers: { 'content-type': 'application/json' },
      }),
      401,
      'unauthorized',
    );
  });

  it('echoes a well-formed X-Request-Id, makes one otherwise', async () => {
    const mine = await api.request('GET', '/v1/contacts', {
      key,
      headers: { 'x-request-id': 'client-req-12345' },
    });
    expect(mine.headers.get('x-request-id')).toBe('client-req-12345');
    const weird = await api.request('GET', '/v1/contacts', {
      key,
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(weird.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const problem = await api.request<Problem>('GET', '/v1/contacts/nope', {
      key,
      headers: { 'x-request-id': 'client-req-67890' },
    });
    expect(problem.body.request_id).toBe('client-req-67890');
  });

  it('sends helmet headers and honours the CORS allowlist', async () => {
    const res = await api.request('GET', '/v1/contacts', {
      key,
      headers: { origin: 'https://app.example.com' },
    });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('strict-transport-security')).toContain('max-age');
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(res.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    const stranger = await api.request('GET', '/v1/contacts', {
      key,
      headers: { origin: 'https://evil.example.net' },
    });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${api.url}/v1/contacts`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,idempotency-key',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Idempotency-Key');
  });

  it('answers 400, never 500, for a path that is not valid percent-encoding', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${api.url}/v1/contacts/%E0%A4%A`,
        { headers: { authorization: `Bearer ${key}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBeLessThan(500);
  });

  it('serves a complete OpenAPI document at /docs-json and the UI at /docs', async () => {
    const doc = (
      await api.request<{
        openapi: string;
        paths: Record<string, Record<string, Record<string, unknown>>>;
        components: { schemas: Record<string, unknown> };
      }>('GET', '/docs-json', { key: null })
    ).body;
    expect(doc.openapi).toBe('3.1.0');
    const expected = [
      'post /v1/tenants',
      'post /v1/api-keys',
      'get /v1/api-keys',
      'delete /v1/api-keys/{id}',
      'post /v1/contacts',
      'get /v1/contacts',
      'get /v1/contacts/{id}',
      'patch /v1/contacts/{id}',
      'delete /v1/contacts/{id}',
      'post /v1/contacts/import',
      'get /v1/interactions',
      'post /v1/interactions',
      'post /v1/suppressions',
      'get /v1/suppressions',
      'get /v1/suppressions/{id}',
      'delete /v1/suppressions/{id}',
    ];
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ name: `${method} ${path}`, op })),
    );
    expect(operations.map((o) => o.name)).toEqual(expect.arrayContaining(expected));
    for (const { name, op } of operations.filter((o) => expected.includes(o.name))) {
      const responses = op.responses as Record<
        string,
        { content?: Record<string, { example?: unknown; schema?: unknown }> }
      >;
      const success = Object.keys(responses).find((s) => s.startsWith('2'))!;
      expect({ name, summary: typeof op.summary }).toEqual({ name, summary: 'string' });
      expect({ name, security: op.security }).toEqual({
        name,
        security: [{ bearer: [] }, { 'api-key': [] }],
      });
      if (success !== '204')
        expect({
          name,
          example: responses[success]!.content?.['application/json']?.example !== undefined,
        }).toEqual({ name, example: true });
      for (const status of ['401', '403', '429', '500']) {
        expect({
          name,
          status,
          example: responses[status]?.content?.['application/problem+json']?.example !== undefined,
        }).toEqual({ name, status, example: true });
      }
      const body = op.requestBody as { content: Record<string, { example?: unknown }> } | undefined;
      if (name.startsWith('post') || name.startsWith('patch')) {
        expect({ name, bodyExample: body?.content['application/json']?.example !== undefined }).toEqual({
          name,
          bodyExample: true,
        });
        expect(Object.keys(responses)).toEqual(expect.arrayContaining(['400', '413', '415']));
      }
      for (const p of (op.parameters ?? []) as { in: string; schema: unknown }[])
        expect(p.schema).toBeDefined();
    }
    const refs = JSON.stringify(doc).match(/#\/components\/schemas\/[A-Za-z0-9_]+/g) ?? [];
    for (const ref of new Set(refs)) expect(doc.components.schemas[ref.split('/').pop()!]).toBeDefined();
    const ui = await fetch(`${api.url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });
});

describe('per-key rate limit', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await TestApi.start({ API_RATE_LIMIT_PER_SECOND: '1', API_RATE_LIMIT_BURST: '5' });
  });
  afterAll(async () => {
    await api.close();
  });

  it('answers 429 with Retry-After once a key spends its burst; other keys are unaffected', async () => {
    const t = await api.createTenant();
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<TestApi['request']>> | undefined;
    for (let i = 0; i < 8; i++) {
      const res = await api.request('GET', '/v1/contacts', { key: t.key });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    // The tenant creation used the platform bucket, not this key's.
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    expectProblem(limited!, 429, 'rate-limited');
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited!.headers.get('ratelimit-remaining')).toBe('0');
    const other = await api.createTenant('Other');
    expect((await api.request('GET', '/v1/contacts', { key: other.key })).status).toBe(200);
    expect((await api.request('GET', '/v1/contacts', { key: TEST_ADMIN_KEY })).status).toBe(403);
  });
});
