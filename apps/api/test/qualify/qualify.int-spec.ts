import { Qualifier } from '@herald/sourcing';
import { FakeEnrichment, FakeSites } from '@herald/testing';
import { TestApi } from '../../../../test/support/api-app';
import {
  insertCandidates,
  insertDirectoryAccount,
  createEnrichmentAccount,
  insertRun,
  type CandidateInput,
} from './qualify-fixtures';

interface Problem {
  errors: { field: string; message: string }[];
}
interface CandidateState {
  id: string;
  stage: string;
  held: boolean;
  score: number | null;
  tier: string | null;
  explain: { rule: string; points: number; reason: string }[] | null;
  reason: string | null;
  facts: Record<string, unknown>;
  contact_id: string | null;
  enrollment_id: string | null;
  scoring_model_version: number | null;
}

const RULES = [
  { name: 'HTTPS', field: 'assessment.https', op: 'equals', value: true, points: 20 },
  { name: 'mobile viewport', field: 'assessment.viewport', op: 'equals', value: true, points: 15 },
  { name: 'email on site', field: 'assessment.email_found', op: 'equals', value: true, points: 10 },
  { name: 'TTFB > 2 s', field: 'assessment.ttfb_ms', op: 'range', min: 2000, points: -10 },
  { name: 'employees known', field: 'enrichment.employees', op: 'exists', points: 5 },
];
const TIERS = { A: 45, B: 25, C: 5 };

describe('Qualifying candidates: scoring models, the sourcing.qualify pipeline, hand-off exactly once, approve, reject, rescore', () => {
  let api: TestApi;
  let sites: FakeSites;
  let enrichment: FakeEnrichment;
  let tenant: { id: string; key: string };
  let other: { id: string; key: string };
  let qualifier: Qualifier;
  let accountId: string;
  let modelId: string;
  let campaignId: string;

  beforeAll(async () => {
    sites = await FakeSites.start();
    enrichment = await FakeEnrichment.start();
    api = await TestApi.start({
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      OUTBOUND_HOST_OVERRIDES: '*.sites.test=127.0.0.1',
      SOURCING_ASSESSMENT_TIMEOUT_MS: '5000',
    });
    tenant = await api.createTenant('Leads');
    other = await api.createTenant('Other');
    qualifier = api.app.get(Qualifier);
    accountId = await insertDirectoryAccount(api, tenant.id);
    await createEnrichmentAccount(api, tenant.key, {
      base_url: enrichment.url,
      api_key: enrichment.apiKey,
      mapping: { employees: 'company.employees', industry: 'company.industry' },
    });
    const sender = await api.request<{ id: string }>('POST', '/v1/sender-accounts', {
      key: tenant.key,
      body: {
        name: 'Hook',
        channel: 'webhook',
        config: { url: 'https://hooks.example.com/in', secret: 'x'.repeat(32) },
      },
    });
    campaignId = (
      await api.request<{ id: string }>('POST', '/v1/campaigns', {
        key: tenant.key,
        body: {
          name: 'Trial',
          kind: 'sequence',
          sender_account_id: sender.body.id,
          steps: [{ delay: 3600, body: 'Hello' }],
        },
      })
    ).body.id;
  });
  afterAll(async () => {
    await api.close();
    await sites.stop();
    await enrichment.stop();
  });

  const handoff = () => ({
    A: { action: 'enroll', campaign_id: campaignId },
    B: { action: 'contact' },
    C: { action: 'hold' },
    D: { action: 'reject' },
  });
  const candidates = (ids: string[]) =>
    api.query<CandidateState>(
      `SELECT id, stage, held, score, tier, explain, reason, facts, contact_id, enrollment_id, scoring_model_version
         FROM candidates WHERE id = ANY ($1::uuid[]) ORDER BY array_position($1::uuid[], id)`,
      [ids],
    );
  const newRun = async (input: CandidateInput[], version = 1) => {
    const run = await insertRun(api, tenant.id, { accountId, modelId, version, handoff: handoff() });
    const ids = await insertCandidates(api, tenant.id, { ...run, accountId }, input);
    return { ...run, ids };
  };

  describe('scoring models API', () => {
    it('creates a model at version 1 and refuses bad rules naming the field', async () => {
      const created = await api.request<{
        id: string;
        current_version: number;
        current: { rules: unknown[] };
      }>('POST', '/v1/scoring-models', {
        key: tenant.key,
        body: { name: 'Trades', rules: RULES, tiers: TIERS },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ current_version: 1, current: { version: 1, tiers: TIERS } });
      expect(created.body.current.rules).toHaveLength(RULES.length);
      modelId = created.body.id;

      const bad = await api.request<Problem>('POST', '/v1/scoring-models', {
        key: tenant.key,
        body: {
          name: 'Bad',
          rules: [{ name: 'x', field: 'a', op: 'range', points: 1 }],
          tiers: { A: 1, B: 2, C: 0 },
        },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toEqual(
        expect.arrayContaining([
          { field: 'rules[0].min', message: 'a range needs min, max or both' },
          { field: 'tiers.A', message: 'must not be below B' },
        ]),
      );
      expect((await api.query(`SELECT 1 FROM scoring_models WHERE name = 'Bad'`)).length).toBe(0);
    });

    it('lists, gets, versions a model; another tenant sees none of it', async () => {
      const list = await api.request<{ data: { id: string }[] }>('GET', '/v1/scoring-models', {
        key: tenant.key,
      });
      expect(list.body.data.map((m) => m.id)).toEqual([modelId]);
      const got = await api.request<{ name: string }>('GET', `/v1/scoring-models/${modelId}`, {
        key: tenant.key,
      });
      expect(got.body.name).toBe('Trades');
      const v1 = await api.request<{ version: number }>('GET', `/v1/scoring-models/${modelId}/versions/1`, {
        key: tenant.key,
      });
      expect(v1.body.version).toBe(1);
      expect(
        (await api.request('GET', `/v1/scoring-models/${modelId}/versions/2`, { key: tenant.key })).status,
      ).toBe(404);
      expect((await api.request('GET', `/v1/scoring-models/${modelId}`, { key: other.key })).status).toBe(
        404,
      );
      expect(
        (
          await api.request('POST', `/v1/scoring-models/${modelId}/versions`, {
            key: other.key,
            body: { rules: [], tiers: TIERS },
          })
        ).status,
      ).toBe(404);
    });
  });

  it('qualifies a batch: assessed, enriched (a failure marks the candidate), scored with an explanation, handed off per tier', async () => {
    const run = await newRun([
      { name: 'Good 11', website: sites.url('good-11'), email: 'owner@good-11.sites.test' },
      { name: 'Plain 11', website: sites.url('plain-11') },
      { name: 'Bare 11', website: sites.url('bare-11') },
      { name: 'Fail 11', email: 'fail@fail-11.test' },
    ]);
    const tally = await qualifier.qualifyBatch(tenant.id, run.runId, run.ids);
    expect(tally).toEqual({ qualified: 4, skipped: 0 });
    const [good, plain, bare, failed] = await candidates(run.ids);

    expect(good).toMatchObject({ stage: 'handed_off', score: 50, tier: 'A', scoring_model_version: 1 });
    expect(good!.explain!.map((e) => e.reason)).toEqual([
      '+20 HTTPS',
      '+15 mobile viewport',
      '+10 email on site',
      '+5 employees known',
    ]);
    expect(good!.facts).toMatchObject({
      assessment: { https: true, viewport: true, status: 200 },
      enrichment: { employees: expect.any(Number) as number },
    });
    const [contact] = await api.query<{
      id: string;
      email: string;
      tags: string[];
      tier: string;
      score: number;
    }>(`SELECT id, email, tags, tier, score FROM contacts WHERE id = $1`, [good!.contact_id]);
    expect(contact).toMatchObject({ email: 'owner@good-11.sites.test', tier: 'A', score: 50 });
    expect(contact!.tags).toEqual(['lead-tier:A', 'lead-score:50', 'lead-source:Fake directory']);
    const enrolments = await api.query<{ id: string }>(
      `SELECT id FROM enrollments WHERE campaign_id = $1 AND contact_id = $2`,
      [campaignId, contact!.id],
    );
    expect(enrolments.map((e) => e.id)).toEqual([good!.enrollment_id]);

    expect(plain).toMatchObject({ stage: 'handed_off', tier: 'B', score: 30, enrollment_id: null });
    expect(plain!.contact_id).not.toBeNull();
    expect(bare).toMatchObject({ stage: 'scored', held: true, tier: 'C', score: 5, contact_id: null });
    expect(failed).toMatchObject({
      stage: 'rejected',
      tier: 'D',
      reason: 'enrichment_failed',
      contact_id: null,
    });
    expect(failed!.facts).toMatchObject({
      enrichment: null,
      enrichment_error: expect.stringMatching(/^http_500/) as string,
    });
    expect(failed!.facts.assessment).toBeNull();
    const [runRow] = await api.query<{ last_progress_at: Date | null }>(
      `SELECT last_progress_at FROM sourcing_runs WHERE id = $1`,
      [run.runId],
    );
    expect(runRow!.last_progress_at).not.toBeNull();
  });

  it('hands off exactly once: the same batch processed three times at once, then again', async () => {
    const run = await newRun([
      { name: 'Good 21', website: sites.url('good-21'), email: 'owner@good-21.sites.test' },
      { name: 'Plain 21', website: sites.url('plain-21') },
      // Another listing of the same business (same email): one contact for both.
      { name: 'Twin', website: sites.url('plain-22'), email: 'Owner@good-21.sites.test' },
    ]);
    const pageRequests = () =>
      sites.requests.filter((r) => r.host.endsWith('-21.sites.test') && r.path === '/').length;
    await Promise.all([1, 2, 3].map(() => qualifier.qualifyBatch(tenant.id, run.runId, run.ids)));
    await qualifier.qualifyBatch(tenant.id, run.runId, run.ids);
    const rows = await candidates(run.ids);
    expect(rows.map((r) => r.stage)).toEqual(['handed_off', 'handed_off', 'handed_off']);
    expect(rows[2]!.contact_id).toBe(rows[0]!.contact_id);
    const contacts = await api.query<{ id: string }>(
      `SELECT id FROM contacts WHERE tenant_id = $1 AND (external_ref = ANY ($2::text[]) OR email = 'owner@good-21.sites.test')`,
      [tenant.id, run.ids.map((id) => `candidate:${id}`)],
    );
    expect(contacts).toHaveLength(2);
    const enrolments = await api.query(`SELECT 1 FROM enrollments WHERE contact_id = $1`, [
      rows[0]!.contact_id,
    ]);
    expect(enrolments).toHaveLength(1);
    // The page of each site was fetched once at most per concurrent twin; the fourth pass used the cache.
    const fetched = pageRequests();
    await qualifier.qualifyBatch(tenant.id, run.runId, run.ids);
    expect(pageRequests()).toBe(fetched);
  });

  it('approves held candidates with their tier’s hand-off or a given one, rejects others, exactly once', async () => {
    const run = await newRun([
      { name: 'Bare 31', website: sites.url('bare-31') },
      { name: 'Bare 32', website: sites.url('bare-32'), email: 'hi@bare-32.sites.test' },
      { name: 'Bare 33', website: sites.url('bare-33') },
    ]);
    await qualifier.qualifyBatch(tenant.id, run.runId, run.ids);
    expect((await candidates(run.ids)).map((c) => [c.stage, c.held])).toEqual([
      ['scored', true],
      ['scored', true],
      ['scored', true],
    ]);
    const [first, second, third] = run.ids as [string, string, string];
    const approved = await api.request<{
      done: { id: string; stage: string; contact_id: string }[];
      skipped: unknown[];
    }>('POST', `/v1/sourcing-runs/${run.runId}/candidates/approve`, {
      key: tenant.key,
      body: { candidate_ids: [first] },
    });
    expect(approved.status).toBe(200);
    expect(approved.body.done).toEqual([
      expect.objectContaining({ id: first, stage: 'handed_off', enrollment_id: null }),
    ]);
    const enrolled = await api.request<{ done: { enrollment_id: string | null }[] }>(
      'POST',
      `/v1/sourcing-runs/${run.runId}/candidates/approve`,
      {
        key: tenant.key,
        body: { candidate_ids: [second], handoff: { action: 'enroll', campaign_id: campaignId } },
      },
    );
    expect(enrolled.body.done[0]!.enrollment_id).not.toBeNull();
    const again = await api.request<{ done: unknown[]; skipped: { id: string; reason: string }[] }>(
      'POST',
      `/v1/sourcing-runs/${run.runId}/candidates/approve`,
      { key: tenant.key, body: { candidate_ids: [first, second] } },
    );
    expect(again.body).toEqual({
      done: [],
      skipped: [
        { id: first, reason: 'stage_handed_off' },
        { id: second, reason: 'stage_handed_off' },
      ],
    });
    const rejected = await api.request<{ done: { id: string }[]; skipped: { id: string }[] }>(
      'POST',
      `/v1/sourcing-runs/${run.runId}/candidates/reject`,
      { key: tenant.key, body: { candidate_ids: [third, first], reason: 'not our market' } },
    );
    expect(rejected.body.done.map((d) => d.id)).toEqual([third]);
    expect(rejected.body.skipped.map((d) => d.id)).toEqual([first]);
    expect((await candidates([third]))[0]).toMatchObject({
      stage: 'rejected',
      reason: 'not our market',
      held: false,
    });
    const contacts = await api.query(`SELECT 1 FROM contacts WHERE external_ref = ANY ($1::text[])`, [
      run.ids.map((id) => `candidate:${id}`),
    ]);
    expect(contacts).toHaveLength(2);

    const bad = await api.request<Problem>('POST', `/v1/sourcing-runs/${run.runId}/candidates/approve`, {
      key: tenant.key,
      body: { candidate_ids: [] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]!.field).toBe('candidate_ids');
    expect(
      (
        await api.request('POST', `/v1/sourcing-runs/${run.runId}/candidates/reject`, {
          key: other.key,
          body: { candidate_ids: [first] },
        })
      ).status,
    ).toBe(404);
  });

  it('holds a candidate whose hand-off campaign cannot take it, saying why, instead of failing the batch', async () => {
    const run = await insertRun(api, tenant.id, {
      accountId,
      modelId,
      version: 1,
      handoff: { A: { action: 'enroll', campaign_id: '0190f5e4-0000-7000-8000-000000000000' } },
    });
    const [id] = await insertCandidates(api, tenant.id, { ...run, accountId }, [
      { name: 'Good 61', website: sites.url('good-61'), email: 'owner@good-61.sites.test' },
    ]);
    await qualifier.qualifyBatch(tenant.id, run.runId, [id!]);
    expect((await candidates([id!]))[0]).toMatchObject({
      stage: 'scored',
      tier: 'A',
      held: true,
      contact_id: null,
      reason: 'handoff_failed: campaign 0190f5e4-0000-7000-8000-000000000000 does not exist',
    });
    expect(await api.query(`SELECT 1 FROM contacts WHERE email = 'owner@good-61.sites.test'`)).toHaveLength(
      0,
    );
  });

  it('rescores a run with a new version from stored facts, fetching nothing', async () => {
    const run = await newRun([
      { name: 'Good 41', website: sites.url('good-41') },
      { name: 'Plain 41', website: sites.url('plain-41') },
    ]);
    await qualifier.qualifyBatch(tenant.id, run.runId, run.ids);
    expect((await candidates(run.ids)).map((c) => c.tier)).toEqual(['A', 'B']);
    const v2 = await api.request<{ version: number }>('POST', `/v1/scoring-models/${modelId}/versions`, {
      key: tenant.key,
      body: {
        rules: [{ name: 'plain http', field: 'assessment.https', op: 'equals', value: false, points: 50 }],
        tiers: TIERS,
      },
    });
    expect(v2.status).toBe(201);
    const siteRequests = sites.requests.length;
    const lookups = enrichment.lookups.length;
    const rescored = await api.request('POST', `/v1/sourcing-runs/${run.runId}/rescore`, {
      key: tenant.key,
      body: { version: v2.body.version },
    });
    expect(rescored.body).toEqual({ run_id: run.runId, version: v2.body.version, rescored: 2 });
    const [good, plain] = await candidates(run.ids);
    expect(good).toMatchObject({
      tier: 'D',
      score: 0,
      explain: [],
      scoring_model_version: v2.body.version,
      stage: 'handed_off',
    });
    expect(plain).toMatchObject({ tier: 'A', score: 50, scoring_model_version: v2.body.version });
    expect(plain!.explain!.map((e) => e.reason)).toEqual(['+50 plain http']);
    expect(sites.requests.length).toBe(siteRequests);
    expect(enrichment.lookups.length).toBe(lookups);
    const [runRow] = await api.query<{ scoring_model_version: number }>(
      `SELECT scoring_model_version FROM sourcing_runs WHERE id = $1`,
      [run.runId],
    );
    expect(runRow!.scoring_model_version).toBe(v2.body.version);

    const missing = await api.request<Problem>('POST', `/v1/sourcing-runs/${run.runId}/rescore`, {
      key: tenant.key,
      body: { version: 99 },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0]!.field).toBe('version');
    expect(
      (await api.request('POST', `/v1/sourcing-runs/${run.runId}/rescore`, { key: other.key, body: {} }))
        .status,
    ).toBe(404);
  });
});
