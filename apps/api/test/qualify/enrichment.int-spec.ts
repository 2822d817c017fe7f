import { CircuitBreaker } from '@herald/resilience';
import { Enricher } from '@herald/sourcing';
import { FakeEnrichment } from '@herald/testing';
import { randomUUID } from 'node:crypto';
import { TestApi } from '../../../../test/support/api-app';
import { createEnrichmentAccount } from './qualify-fixtures';

describe('Enricher against the fake enrichment API (account through the API, real HTTP, Postgres cache, Redis quota and breaker)', () => {
  let api: TestApi;
  let provider: FakeEnrichment;
  let enricher: Enricher;

  beforeAll(async () => {
    provider = await FakeEnrichment.start();
    api = await TestApi.start({ OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true' });
    enricher = api.app.get(Enricher);
  });
  afterAll(async () => {
    await api.close();
    await provider.stop();
  });

  const tenantWith = async (config: Record<string, unknown> = {}, quotaDaily: number | null = null) => {
    const tenant = await api.createTenant(`T ${randomUUID().slice(0, 8)}`);
    const accountId = await createEnrichmentAccount(
      api,
      tenant.key,
      {
        base_url: provider.url,
        api_key: provider.apiKey,
        mapping: { employees: 'company.employees', industry: 'company.industry', missing: 'company.nope' },
        ...config,
      },
      quotaDaily,
    );
    return { tenantId: tenant.id, tenantKey: tenant.key, accountId };
  };
  const subject = (email: string | null, domain: string | null) => ({
    candidateId: randomUUID(),
    email,
    domain,
  });

  it('maps the answer, prefers the email, and caches found and not-found answers per tenant and account', async () => {
    const { tenantId, accountId } = await tenantWith();
    const first = await enricher.enrich(tenantId, subject('ann@shop.test', 'shop.test'));
    expect(first).toEqual({
      kind: 'enriched',
      accountId,
      fields: { employees: expect.any(Number) as number, industry: expect.any(String) as string },
    });
    const lookups = provider.lookups.length;
    expect(provider.lookups.at(-1)).toEqual({ key: 'ann@shop.test', status: 200 });
    expect(await enricher.enrich(tenantId, subject('ann@shop.test', null))).toEqual(first);
    expect(await enricher.enrich(tenantId, subject(null, 'unknown-co.test'))).toEqual({
      kind: 'not_found',
      accountId,
    });
    expect(await enricher.enrich(tenantId, subject(null, 'unknown-co.test'))).toEqual({
      kind: 'not_found',
      accountId,
    });
    expect(provider.lookups.length).toBe(lookups + 1);
    const [row] = await api.query<{ ttl: number }>(
      `SELECT extract(epoch FROM expires_at - fetched_at)::int AS ttl FROM enrichment_lookups WHERE tenant_id = $1 AND lookup_key = 'email:ann@shop.test'`,
      [tenantId],
    );
    expect(row?.ttl).toBe(api.config.qualify.enrichmentCacheTtlSeconds);
    // Expired: asked again.
    await api.query(
      `UPDATE enrichment_lookups SET expires_at = now() - interval '1 second' WHERE tenant_id = $1`,
      [tenantId],
    );
    await enricher.enrich(tenantId, subject('ann@shop.test', null));
    expect(provider.lookups.length).toBe(lookups + 2);
  });

  it('skips a tenant without an enrichment account and a candidate with nothing to look up', async () => {
    const bare = await api.createTenant('No enrichment');
    expect(await enricher.enrich(bare.id, subject('a@b.test', 'b.test'))).toEqual({
      kind: 'skipped',
      accountId: null,
    });
    const { tenantId, accountId } = await tenantWith({ lookup: 'domain' });
    expect(await enricher.enrich(tenantId, subject('a@b.test', null))).toEqual({
      kind: 'skipped',
      accountId,
    });
  });

  it('returns failures instead of throwing: a provider error, a wrong key, an exhausted quota (the same candidate is charged once)', async () => {
    const { tenantId, accountId } = await tenantWith({}, 2);
    const failed = await enricher.enrich(tenantId, subject(null, 'fail-co.test'));
    expect(failed).toEqual({ kind: 'failed', accountId, error: 'http_500: the provider answered 500' });
    // A repeated candidate replays its reservation: the second unit is still free.
    const again = subject(null, 'shop-2.test');
    await enricher.enrich(tenantId, again);
    await api.query(`DELETE FROM enrichment_lookups WHERE tenant_id = $1`, [tenantId]);
    expect((await enricher.enrich(tenantId, again)).kind).toBe('enriched');
    const exhausted = await enricher.enrich(tenantId, subject(null, 'shop-3.test'));
    expect(exhausted).toMatchObject({
      kind: 'failed',
      error: expect.stringMatching(/^quota_quota/) as string,
    });

    const wrongKey = await tenantWith({ api_key: 'not-the-key' });
    expect(await enricher.enrich(wrongKey.tenantId, subject(null, 'shop.test'))).toMatchObject({
      kind: 'failed',
      error: 'http_401: the provider answered 401',
    });
  });

  it('opens the account breaker after repeated failures and stops calling the provider', async () => {
    const { tenantId, accountId } = await tenantWith();
    for (let i = 0; i < 3; i++) await enricher.enrich(tenantId, subject(null, `fail-${i}.test`));
    const state = await api.app.get(CircuitBreaker).get({ channel: 'http-enrichment', account: accountId });
    expect(state.state).toBe('open');
    const calls = provider.lookups.length;
    expect(await enricher.enrich(tenantId, subject(null, 'shop-9.test'))).toMatchObject({
      kind: 'failed',
      error: expect.stringMatching(/^breaker_open/) as string,
    });
    expect(provider.lookups.length).toBe(calls);
  });
  it('is configured by the source account alone: its lookup, lookup_param, auth and cache TTL are what the provider sees', async () => {
    const { tenantId, accountId } = await tenantWith({
      base_url: `http://127.0.0.1:${provider.port}/v1/lookup?region=eu`,
      lookup: 'domain',
      lookup_param: 'domain',
      cache_ttl_seconds: 120,
    });
    const outcome = await enricher.enrich(tenantId, subject('ann@params.test', 'params.test'));
    expect(outcome).toMatchObject({ kind: 'enriched', accountId });
    expect(provider.lookups.at(-1)).toEqual({ key: 'params.test', status: 200 });
    const [row] = await api.query<{ ttl: number }>(
      `SELECT extract(epoch FROM expires_at - fetched_at)::int AS ttl FROM enrichment_lookups WHERE tenant_id = $1`,
      [tenantId],
    );
    expect(row?.ttl).toBe(120);
    // The provider only knows the account's default auth (authorization: Bearer <key>): another scheme is refused.
    const xKey = await tenantWith({ auth_header: 'x-api-key', auth_scheme: '' });
    expect(await enricher.enrich(xKey.tenantId, subject(null, 'params.test'))).toMatchObject({
      kind: 'failed',
      error: 'http_401: the provider answered 401',
    });
  });

  it('rejects a config qualifying could not use with a 400 naming the field, and never returns the key', async () => {
    const tenant = await api.createTenant(`T ${randomUUID().slice(0, 8)}`);
    const post = (config: Record<string, unknown>) =>
      api.request<{ config?: Record<string, unknown> }>('POST', '/v1/source-accounts', {
        key: tenant.key,
        body: { name: 'E', kind: 'http-enrichment', config },
      });
    const base = {
      base_url: provider.url,
      api_key: provider.apiKey,
      mapping: { employees: 'company.employees' },
    };
    for (const [config, field] of [
      [{ ...base, lookup: 'phone' }, 'config.lookup'],
      [{ ...base, mapping: {} }, 'config.mapping'],
      [{ ...base, url: provider.url }, 'config'],
      [{ ...base, base_url: 'ftp://x.test/' }, 'config.base_url'],
    ] as const) {
      const res = await post(config);
      expect(res.status).toBe(400);
      expect(res.text).toContain(field);
    }
    const ok = await post({ ...base, lookup: 'email_then_domain' });
    expect(ok.status).toBe(201);
    expect(ok.text).not.toContain(provider.apiKey);
    expect(ok.body.config).toMatchObject({ lookup: 'email_then_domain', mapping: base.mapping });
    const [count] = await api.query<{ n: string }>(
      `SELECT count(*) AS n FROM source_accounts WHERE tenant_id = $1`,
      [tenant.id],
    );
    expect(Number(count?.n)).toBe(1);
  });
});
