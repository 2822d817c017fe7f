import { JobProducer } from '@herald/queues';
import { CircuitBreaker } from '@herald/resilience';
import { RouteDeclarationCheck } from '@herald/telemetry';
import { TEST_ADMIN_KEY } from '@herald/testing';
import { randomUUID } from 'node:crypto';
import { TestApi } from '../../../test/support/api-app';
import { failSystemJobs } from '../../../test/support/failed-jobs';
import { isNoRoute, rawRequest, spellingsOf, type RawResponse } from '../../../test/support/raw-http';

interface Operation {
  method: string;
  /** OpenAPI template: `/v1/contacts/{id}`. */
  template: string;
  id: string;
  access: string;
  body: string | undefined;
}

type Caller = 'no key' | 'read' | 'write' | 'tenant admin' | 'other tenant admin' | 'platform admin';
const CALLERS: Caller[] = ['no key', 'read', 'write', 'other tenant admin', 'tenant admin', 'platform admin'];

/**
 * Every operation of the generated OpenAPI document × every spelling of its path × every kind
 * of caller: a spelling reaches no handler (404 "No route"), or gets the same answer class as
 * the canonical path for that caller — and a spelling that reached no handler changed nothing
 * (no key minted, no tenant created, no job retried, no row touched). The operations come from
 * the document, so a new route is covered without editing this test.
 */
// Thousands of raw requests, growing with every route: a bound for a loaded CI machine, not a timing.
jest.setTimeout(300_000);

describe('access matrix: every route × spelling × caller', () => {
  let api: TestApi;
  let operations: Operation[];
  const keys = new Map<Caller, string | undefined>();
  const fixtures: Record<string, string> = {};

  const call = (caller: Caller, op: Operation, path: string): Promise<RawResponse> => {
    const key = keys.get(caller);
    return rawRequest(api.url, op.method, path, key ? { authorization: `Bearer ${key}` } : {}, op.body);
  };

  /** What a privileged effect would change: rows of every tenant-facing table, failed jobs, a circuit. */
  const effects = async (): Promise<string> => {
    const [rows] = await api.query<{ digest: string }>(`
      SELECT concat_ws('|',
        (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY id), '')) FROM tenants t),
        (SELECT md5(coalesce(string_agg(concat_ws(':', id, name, scopes, revoked_at), ',' ORDER BY id), '')) FROM api_keys),
        (SELECT md5(coalesce(string_agg(c::text, ',' ORDER BY id), '')) FROM contacts c),
        (SELECT md5(coalesce(string_agg(c::text, ',' ORDER BY id), '')) FROM campaigns c),
        (SELECT md5(coalesce(string_agg(concat_ws(':', id, status, dry_run), ',' ORDER BY id), '')) FROM campaign_runs),
        (SELECT md5(coalesce(string_agg(concat_ws(':', id, name, status), ',' ORDER BY id), '')) FROM sender_accounts),
        (SELECT md5(coalesce(string_agg(s::text, ',' ORDER BY id), '')) FROM suppressions s),
        (SELECT md5(coalesce(string_agg(e::text, ',' ORDER BY id), '')) FROM enrollments e),
        (SELECT count(*) FROM interactions),
        (SELECT count(*) FROM system_pings)
      ) AS digest`);
    const system = api.app.get(JobProducer).queue('system');
    const failed = await system.getFailedCount();
    const circuit = await api.app.get(CircuitBreaker).get({ channel: 'webhook', account: fixtures.account! });
    return `${rows!.digest}|failed=${failed}|circuit=${circuit.state}`;
  };

  beforeAll(async () => {
    api = await TestApi.start();
    const a = await api.createTenant('A');
    const b = await api.createTenant('B');
    const post = async (key: string, path: string, body: unknown) => {
      const res = await api.request<{ id: string; key?: string }>('POST', path, { key, body });
      if (res.status >= 300) throw new Error(`fixture ${path}: ${res.status} ${res.text}`);
      return res.body;
    };
    keys.set('no key', undefined);
    keys.set('tenant admin', a.key);
    keys.set('other tenant admin', b.key);
    keys.set('platform admin', TEST_ADMIN_KEY);
    keys.set('read', (await post(a.key, '/v1/api-keys', { name: 'reader', scopes: ['read'] })).key);
    keys.set('write', (await post(a.key, '/v1/api-keys', { name: 'writer', scopes: ['write'] })).key);
    fixtures.apiKey = (await post(a.key, '/v1/api-keys', { name: 'spare', scopes: ['read'] })).id;
    fixtures.account = (
      await post(a.key, '/v1/sender-accounts', {
        name: 'Hook',
        channel: 'webhook',
        config: { url: 'https://hooks.example/in', secret: 'x'.repeat(32) },
      })
    ).id;
    fixtures.contact = (
      await post(a.key, '/v1/contacts', { email: 'ada@example.com', first_name: 'Ada' })
    ).id;
    fixtures.enrolled = (
      await post(a.key, '/v1/contacts', { email: 'bob@example.com', first_name: 'Bob' })
    ).id;
    fixtures.campaign = (
      await post(a.key, '/v1/campaigns', {
        name: 'News',
        kind: 'broadcast',
        sender_account_id: fixtures.account,
        steps: [{ subject: 'Hi', body: 'Hello {{ first_name }}' }],
      })
    ).id;
    fixtures.sequence = (
      await post(a.key, '/v1/campaigns', {
        name: 'Trial',
        kind: 'sequence',
        sender_account_id: fixtures.account,
        steps: [{ subject: 'One', body: 'One' }],
      })
    ).id;
    await post(a.key, `/v1/campaigns/${fixtures.sequence}/enrollments`, { contact_ids: [fixtures.enrolled] });
    fixtures.run = (await post(a.key, `/v1/campaigns/${fixtures.campaign}/runs`, { dry_run: true })).id;
    fixtures.suppression = (
      await post(a.key, '/v1/suppressions', { email: 'gone@example.com', reason: 'manual' })
    ).id;
    fixtures.ping = (await post(TEST_ADMIN_KEY, '/v1/system/pings', {})).id;
    fixtures.scoringModel = (
      await post(a.key, '/v1/scoring-models', {
        name: 'Matrix model',
        rules: [{ name: 'HTTPS', field: 'assessment.https', op: 'equals', value: true, points: 10 }],
        tiers: { A: 10, B: 5, C: 1 },
      })
    ).id;
    await failSystemJobs(api, 'matrix-broken-1');

    const document = (await api.request<OpenApiDocument>('GET', '/docs-json', { key: null })).body;
    operations = Object.entries(document.paths).flatMap(([template, item]) =>
      Object.entries(item).map(([method, op]) => ({
        method: method.toUpperCase(),
        template,
        id: op.operationId,
        access: op['x-herald-access'],
        body: exampleBody(op),
      })),
    );
    // Destructive operations last, so the resources the others name still exist.
    operations.sort((x, y) => Number(x.method === 'DELETE') - Number(y.method === 'DELETE'));
  });

  afterAll(async () => {
    await api.close();
  });

  it('reads every API route, with its declared access, from the OpenAPI document', () => {
    // Every route the app declares for API callers is in the document (none hidden from the
    // matrix), with the access its handler declares.
    const declared = api.app
      .get(RouteDeclarationCheck)
      .routes()
      .filter((r) => r.access !== 'probe' && r.access !== 'ops')
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')} ${r.access}`)
      .sort();
    expect(operations.map((o) => `${o.method} ${o.template} ${o.access}`).sort()).toEqual(declared);
    expect(operations.length).toBeGreaterThanOrEqual(40);
    expect(operations.map((o) => o.id)).toEqual(
      expect.arrayContaining([
        'tenants.create',
        'apiKeys.create',
        'admin.retryFailed',
        'system.pings.create',
      ]),
    );
  });

  it('answers every spelling with "no route" or the canonical answer, and no spelling has an effect', async () => {
    const mismatches: string[] = [];
    const leaks: string[] = [];
    let requests = 0;
    for (const op of operations) {
      const path = resolve(op.template, fixtures);
      for (const caller of CALLERS) {
        const before = await effects();
        const spelled: [string, RawResponse][] = [];
        for (const [label, spelling] of spellingsOf(path)) {
          spelled.push([`${label} ${spelling}`, await call(caller, op, spelling)]);
        }
        const changed = (await effects()) !== before;
        const canonical = await call(caller, op, path);
        // A spelling may change state only by reaching the same handler under the same check,
        // for a caller the canonical path allows.
        const allowed = canonical.status < 300 && !spelled.every(([, res]) => isNoRoute(res));
        if (changed && !allowed)
          leaks.push(`${op.method} ${op.template} as ${caller}: a spelling changed state`);
        requests += spelled.length + 1;
        for (const [label, res] of spelled) {
          if (isNoRoute(res)) continue;
          if (Math.floor(res.status / 100) !== Math.floor(canonical.status / 100)) {
            mismatches.push(
              `${op.method} ${op.template} as ${caller}: ${label} → ${res.status}, canonical → ${canonical.status}`,
            );
          }
        }
      }
    }
    expect(leaks).toEqual([]);
    expect(mismatches).toEqual([]);
    expect(requests).toBeGreaterThan(operations.length * CALLERS.length * 10);
  });

  it('still decides canonical requests by scope, as before', async () => {
    const create = operations.find((o) => o.id === 'apiKeys.create')!;
    const path = '/v1/api-keys';
    expect((await call('no key', create, path)).status).toBe(401);
    expect((await call('read', create, path)).status).toBe(403);
    expect((await call('write', create, path)).status).toBe(403);
    expect((await call('platform admin', create, path)).status).toBe(403);
    expect((await call('tenant admin', create, path)).status).toBe(201);
    const tenants = operations.find((o) => o.id === 'tenants.create')!;
    expect((await call('tenant admin', tenants, '/v1/tenants')).status).toBe(403);
    expect((await call('platform admin', tenants, '/v1/tenants')).status).toBe(201);
  });

  it('closes the reported bypasses: a capital letter no longer reaches a privileged handler', async () => {
    const read = keys.get('read')!;
    const admin = keys.get('tenant admin')!;
    const before = await effects();
    const attempts = [
      {
        key: read,
        method: 'POST',
        path: '/V1/api-keys',
        body: { name: 'x', scopes: ['read', 'write', 'admin'] },
      },
      { key: admin, method: 'POST', path: '/V1/tenants', body: { name: 'Evil', time_zone: 'UTC' } },
      { key: admin, method: 'POST', path: '/V1/admin/queues/system/retry-failed', body: {} },
    ];
    for (const attempt of attempts) {
      const res = await rawRequest(
        api.url,
        attempt.method,
        attempt.path,
        { authorization: `Bearer ${attempt.key}` },
        JSON.stringify(attempt.body),
      );
      expect(isNoRoute(res)).toBe(true);
    }
    expect(await effects()).toBe(before);
  });
});

interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        'x-herald-access': string;
        requestBody?: { content: Record<string, { example?: unknown }> };
      }
    >
  >;
}

function exampleBody(op: OpenApiDocument['paths'][string][string]): string | undefined {
  const content = op.requestBody?.content;
  if (!content) return undefined;
  const json = content['application/json'];
  return JSON.stringify(json?.example ?? {});
}

/** Fills a template's parameters with tenant A's fixtures, chosen by the segment before each. */
function resolve(template: string, fixtures: Record<string, string>): string {
  const segments = template.split('/');
  return segments
    .map((segment, i) => {
      const param = /^\{(\w+)\}$/.exec(segment)?.[1];
      if (!param) return segment;
      const owner = segments[i - 1];
      const next = segments[i + 1];
      if (owner === 'campaigns') return next === 'enrollments' ? fixtures.sequence : fixtures.campaign;
      if (owner === 'enrollments') return fixtures.enrolled;
      if (owner === 'contacts') return fixtures.contact;
      if (owner === 'runs') return fixtures.run;
      if (owner === 'sender-accounts') return fixtures.account;
      if (owner === 'api-keys') return fixtures.apiKey;
      if (owner === 'suppressions') return fixtures.suppression;
      if (owner === 'pings') return fixtures.ping;
      if (owner === 'scoring-models') return fixtures.scoringModel;
      if (owner === 'versions') return '1';
      if (owner === 'queues') return 'system';
      if (owner === 'circuits') return `webhook:${fixtures.account}`;
      // A route this table does not know yet still gets every spelling checked, with an unknown id.
      return randomUUID();
    })
    .join('/');
}
