import { CircuitBreaker } from '@herald/resilience';
import { TEST_ADMIN_KEY } from '@herald/testing';
import { TestApi } from '../../../test/support/api-app';
import { fillPath, operationsOf, type Operation } from '../../../test/support/openapi-walk';

/**
 * Promise 5, walked over every route the OpenAPI document lists: tenant B's key never reaches
 * tenant A's data (another tenant's id is a 404), and no route answers without a valid key.
 */
/** A well-formed link token (version, purpose, three UUIDs, a tag) that no key signed. */
const FORGED_LINK_TOKEN = Buffer.alloc(66, 1).toString('base64url');

describe('tenant isolation over every documented route', () => {
  let api: TestApi;
  let operations: Operation[];
  const a = {
    id: '',
    key: '',
    keyId: '',
    contact: '',
    suppression: '',
    extraKey: '',
    email: 'ada@a.example',
    account: '',
    campaign: '',
    run: '',
    sourceAccount: '',
    sourcingJob: '',
    scoringModel: '',
    sourcingRun: '',
  };
  let b: { id: string; key: string; keyId: string };
  let revokedKey: string;

  beforeAll(async () => {
    api = await TestApi.start();
    Object.assign(a, await api.createTenant('A'));
    b = await api.createTenant('B');
    const req = <T>(method: string, path: string, body?: unknown, key = a.key) =>
      api.request<T>(method, path, { key, body });
    a.contact = (
      await req<{ id: string }>('POST', '/v1/contacts', {
        email: a.email,
        external_ref: 'a-ref',
        tags: ['a'],
      })
    ).body.id;
    a.suppression = (
      await req<{ id: string }>('POST', '/v1/suppressions', { email: 'blocked@a.example', reason: 'manual' })
    ).body.id;
    a.extraKey = (
      await req<{ id: string }>('POST', '/v1/api-keys', { name: 'extra', scopes: ['read'] })
    ).body.id;
    await req('POST', '/v1/interactions', {
      contact_id: a.contact,
      type: 'note',
      payload: { text: 'secret note' },
    });
    // The delivery engine's resources: a sender account, a campaign, a queued run, an open circuit.
    a.account = (
      await req<{ id: string }>('POST', '/v1/sender-accounts', {
        name: 'A hook',
        channel: 'webhook',
        config: { url: 'https://a.example/hook', secret: 'a-secret-0123456789abcdef' },
      })
    ).body.id;
    a.campaign = (
      await req<{ id: string }>('POST', '/v1/campaigns', {
        name: 'A broadcast',
        kind: 'broadcast',
        sender_account_id: a.account,
        steps: [{ body: 'Hi' }],
      })
    ).body.id;
    a.run = (await req<{ id: string }>('POST', `/v1/campaigns/${a.campaign}/runs`, {})).body.id;
    await req('POST', `/v1/admin/circuits/webhook:${a.account}/open`, {});
    // Sourcing: a scoring model, a list account, a job, its (queued) run and a held candidate.
    a.scoringModel = (
      await req<{ id: string }>('POST', '/v1/scoring-models', {
        name: 'A model',
        rules: [{ name: 'HTTPS', field: 'assessment.https', op: 'equals', value: true, points: 10 }],
        tiers: { A: 10, B: 5, C: 1 },
      })
    ).body.id;
    a.sourceAccount = (
      await req<{ id: string }>('POST', '/v1/source-accounts', { name: 'A list', kind: 'csv', config: {} })
    ).body.id;
    await req('POST', `/v1/admin/circuits/csv:${a.sourceAccount}/open`, {});
    a.sourcingJob = (
      await req<{ id: string }>('POST', '/v1/sourcing-jobs', {
        name: 'A leads',
        source_account_id: a.sourceAccount,
        criteria: { csv: 'name,email\nAda,ada@lead.example\n' },
        limit: 10,
        scoring_model_id: a.scoringModel,
      })
    ).body.id;
    a.sourcingRun = (
      await req<{ id: string }>('POST', `/v1/sourcing-jobs/${a.sourcingJob}/runs`, {})
    ).body.id;
    await api.query(
      `INSERT INTO candidates (tenant_id, id, run_id, job_id, source_account_id, source_key, stage, held, tier, score, raw_hash)
       VALUES ($1, gen_random_uuid(), $2, $3, $4, 'a-1', 'scored', true, 'C', 1, 'h')`,
      [a.id, a.sourcingRun, a.sourcingJob, a.sourceAccount],
    );
    const victim = await req<{ id: string; key: string }>(
      'POST',
      '/v1/api-keys',
      { name: 'to revoke', scopes: ['admin'] },
      b.key,
    );
    await api.request('DELETE', `/v1/api-keys/${victim.body.id}`, { key: b.key });
    revokedKey = victim.body.key;
    operations = operationsOf(
      (await api.request<Parameters<typeof operationsOf>[0]>('GET', '/docs-json', { key: null })).body,
    );
  });
  afterAll(async () => {
    await api.close();
  });

  /** Everything tenant A owns, as text: it must not change while B walks the API. */
  const snapshotOfA = async () =>
    JSON.stringify(
      await api.query(
        `SELECT (SELECT json_agg(c ORDER BY id) FROM contacts c WHERE tenant_id = $1) AS contacts,
                (SELECT json_agg(s ORDER BY id) FROM suppressions s WHERE tenant_id = $1) AS suppressions,
                (SELECT json_agg(i ORDER BY id) FROM interactions i WHERE tenant_id = $1) AS interactions,
                (SELECT json_agg(json_build_object('id', k.id, 'revoked_at', k.revoked_at, 'scopes', k.scopes) ORDER BY id) FROM api_keys k WHERE tenant_id = $1) AS keys,
                (SELECT json_agg(s ORDER BY id) FROM sender_accounts s WHERE tenant_id = $1) AS sender_accounts,
                (SELECT json_agg(g ORDER BY id) FROM campaigns g WHERE tenant_id = $1) AS campaigns,
                (SELECT json_agg(r ORDER BY id) FROM campaign_runs r WHERE tenant_id = $1) AS runs,
                (SELECT json_agg(d ORDER BY id) FROM deliveries d WHERE tenant_id = $1) AS deliveries,
                (SELECT json_agg(x ORDER BY id) FROM source_accounts x WHERE tenant_id = $1) AS source_accounts,
                (SELECT json_agg(j ORDER BY id) FROM sourcing_jobs j WHERE tenant_id = $1) AS sourcing_jobs,
                (SELECT json_agg(m ORDER BY id) FROM scoring_models m WHERE tenant_id = $1) AS scoring_models,
                (SELECT json_agg(v ORDER BY model_id, version) FROM scoring_model_versions v WHERE tenant_id = $1) AS scoring_versions,
                (SELECT json_agg(r ORDER BY id) FROM sourcing_runs r WHERE tenant_id = $1) AS sourcing_runs,
                (SELECT json_agg(c ORDER BY id) FROM candidates c WHERE tenant_id = $1) AS candidates`,
        [a.id],
      ),
    );

  /** A's ids for each path parameter, by the resource the path names (circuits: both kinds). */
  const aIdsFor = (op: Operation): string[] => {
    const ids: [string, string][] = [
      ['/v1/contacts', a.contact],
      ['/v1/suppressions', a.suppression],
      ['/v1/api-keys', a.extraKey],
      ['/v1/sender-accounts', a.account],
      ['/v1/provider-events', a.account],
      ['/v1/campaigns', a.campaign],
      ['/v1/analytics/campaigns', a.campaign],
      ['/v1/runs', a.run],
      ['/v1/scoring-models', a.scoringModel],
      ['/v1/admin/circuits', `webhook:${a.account}`],
      ['/v1/admin/circuits', `csv:${a.sourceAccount}`],
      ['/v1/admin/queues', 'deliveries'],
      ['/v1/tenants', a.id],
      // The links in emails: their token is the credential, whatever key comes with it.
      ['/u/', FORGED_LINK_TOKEN],
      ['/t/', FORGED_LINK_TOKEN],
      ['/v1/source-accounts', a.sourceAccount],
      ['/v1/sourcing-jobs', a.sourcingJob],
      ['/v1/sourcing-runs', a.sourcingRun],
    ];
    return ids.filter(([prefix]) => op.path.startsWith(prefix)).map(([, id]) => id);
  };
  const aIdFor = (op: Operation): string | undefined => aIdsFor(op)[0];

  /** Bodies and queries that name A's things from B's side. */
  const crossTenantBody = (op: Operation): unknown => {
    switch (op.name) {
      case 'POST /v1/interactions':
        return { contact_id: a.contact, type: 'note', payload: { text: 'from B' } };
      case 'POST /v1/suppressions':
        return { contact_id: a.contact, reason: 'manual' };
      case 'PATCH /v1/contacts/{id}':
        return { first_name: 'Hijacked' };
      case 'POST /v1/campaigns':
        return { ...(op.bodyExample as object), sender_account_id: a.account };
      case 'PATCH /v1/campaigns/{id}':
        return { name: 'Hijacked', status: 'paused' };
      case 'PUT /v1/reports/settings':
        // B's weekly report through A's webhook account.
        return { delivery: 'webhook', sender_account_id: a.account };
      case 'POST /v1/campaigns/{id}/experiments/{step}/promote':
        return { variant: 'A' };
      default:
        return op.bodyExample;
    }
  };
  const crossTenantQuery = (op: Operation): string => {
    const q = new URLSearchParams();
    if (op.queryParams.includes('contact_id')) q.set('contact_id', a.contact);
    if (op.queryParams.includes('email')) q.set('email', a.email);
    return q.size ? `?${q.toString()}` : '';
  };

  it('walks every route: A’s ids are 404 to B, lists show B none of A’s data, A’s rows never change', async () => {
    expect(operations.length).toBeGreaterThanOrEqual(16);
    const before = await snapshotOfA();
    const seen: string[] = [];
    // Each op once per A id its path may name (a circuit: the sender's and the source account's).
    const walk: [Operation, string | undefined][] = operations.flatMap((o) => {
      const ids: (string | undefined)[] = aIdsFor(o);
      return (ids.length > 0 ? ids : [undefined]).map((i): [Operation, string | undefined] => [o, i]);
    });
    for (const [op, id] of walk) {
      // A step index is no id: step 0 of A's campaign, so the 404 is the campaign's.
      const path = fillPath(
        op.path,
        Object.fromEntries(op.pathParams.map((p) => [p, p === 'step' ? '0' : (id ?? '')])),
      );
      const body = op.method === 'GET' || op.method === 'DELETE' ? undefined : crossTenantBody(op);
      const res = await api.request<{ data?: { id: string }[] }>(
        op.method,
        path + (op.method === 'GET' ? crossTenantQuery(op) : ''),
        { key: b.key, body },
      );
      seen.push(`${op.name} ${id ?? ''} → ${res.status}`);
      if (op.access === 'platform') {
        expect({ op: op.name, status: res.status }).toEqual({ op: op.name, status: 403 });
      } else if (op.access === 'public' && (op.path.startsWith('/u/') || op.path.startsWith('/t/'))) {
        // An email's link with a token nobody signed: not found, whoever asks.
        expect({ op: op.name, status: res.status }).toEqual({ op: op.name, status: 404 });
      } else if (op.access === 'public') {
        // Console sign-in: B's key is not a session, and the example body's key is nobody's.
        // Provider events for A's account: B's key is no provider signature.
        expect({ op: op.name, status: res.status }).toEqual({ op: op.name, status: 401 });
      } else if (
        op.pathParams.length > 0 ||
        op.name === 'POST /v1/interactions' ||
        op.name === 'POST /v1/suppressions' ||
        op.name === 'POST /v1/campaigns' ||
        op.name === 'PUT /v1/reports/settings'
      ) {
        expect({ op: op.name, status: res.status }).toEqual({ op: op.name, status: 404 });
      } else if (op.method === 'GET') {
        expect({ op: op.name, status: res.status }).toEqual({ op: op.name, status: 200 });
        const text = JSON.stringify(res.body);
        for (const secret of [
          a.contact,
          a.suppression,
          a.extraKey,
          a.keyId,
          a.email,
          'secret note',
          a.account,
          a.campaign,
          a.run,
          a.scoringModel,
          a.sourceAccount,
          a.sourcingRun,
        ]) {
          expect({ op: op.name, leaks: text.includes(secret) }).toEqual({ op: op.name, leaks: false });
        }
      } else {
        // Creating B's own things is fine; it must not touch A's.
        expect({ op: op.name, ok: res.status < 500 }).toEqual({ op: op.name, ok: true });
      }
    }
    expect(await snapshotOfA()).toBe(before);
    // B could not close A's circuits, the sender account's nor the source account's.
    const breaker = api.app.get(CircuitBreaker);
    expect((await breaker.get({ channel: 'webhook', account: a.account })).state).toBe('open');
    expect((await breaker.get({ channel: 'csv', account: a.sourceAccount })).state).toBe('open');
    // Both circuits' open and close were walked with B's key (each a 404, per the branch above).
    for (const route of ['open', 'close']) {
      for (const key of [`webhook:${a.account}`, `csv:${a.sourceAccount}`]) {
        expect(seen).toContain(`POST /v1/admin/circuits/{key}/${route} ${key} → 404`);
      }
    }
    // B imported A's email: that made B's own contact, not a change to A's.
    expect((await api.query('SELECT 1 FROM contacts WHERE tenant_id = $1', [b.id])).length).toBeGreaterThan(
      0,
    );
    expect(seen.length).toBe(walk.length);
    expect(walk.length).toBeGreaterThan(operations.length);
  });

  it.each([
    ['no key', null, {}],
    ['a malformed key', null, { authorization: 'Bearer hk_not_a_key' }],
    ['a revoked key', 'revoked', {}],
    [
      'an unknown key (X-API-Key)',
      null,
      { 'x-api-key': 'hk_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB000000' },
    ],
  ])('walks every route with %s: 401 each, nothing changes', async (_label, which, headers) => {
    const before = await snapshotOfA();
    for (const op of operations) {
      const path = fillPath(op.path, Object.fromEntries(op.pathParams.map((p) => [p, aIdFor(op) ?? ''])));
      const body = op.method === 'GET' || op.method === 'DELETE' ? undefined : op.bodyExample;
      const res = await api.request(op.method, path, {
        key: which === 'revoked' ? revokedKey : null,
        headers,
        body,
      });
      expect({ op: op.name, status: res.status }).toEqual({ op: op.name, status: 401 });
    }
    expect(await snapshotOfA()).toBe(before);
  });

  it('the platform key creates tenants but reads no tenant’s data', async () => {
    for (const op of operations.filter((o) => o.access === 'tenant')) {
      const path = fillPath(op.path, Object.fromEntries(op.pathParams.map((p) => [p, aIdFor(op) ?? ''])));
      const body = op.method === 'GET' || op.method === 'DELETE' ? undefined : op.bodyExample;
      const res = await api.request(op.method, path, { key: TEST_ADMIN_KEY, body });
      expect({ op: op.name, status: res.status }).toEqual({ op: op.name, status: 403 });
    }
    // Fleet operations (queues, circuits) are the platform's too.
    const operatorReads = operations.filter((o) => o.access === 'operator' && o.method === 'GET');
    expect(operatorReads.length).toBeGreaterThan(0);
    for (const op of operatorReads) {
      const res = await api.request(op.method, op.path, { key: TEST_ADMIN_KEY });
      expect({ op: op.name, status: res.status }).toEqual({ op: op.name, status: 200 });
    }
  });
});
