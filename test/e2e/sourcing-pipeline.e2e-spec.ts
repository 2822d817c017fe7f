import {
  callApi,
  createTestDatabase,
  eventually,
  FakeDirectory,
  FakeEnrichment,
  FakeSites,
  HeraldProcess,
  RedisServer,
  TEST_ADMIN_KEY,
  testEnvironment,
  testRedisPrefix,
  type TestDatabase,
  createTenant,
} from '@herald/testing';
import { Client } from 'pg';
import { directorySourcing } from '../support/sourcing-fixture';

jest.setTimeout(300_000);

const DIRECTORY_KEY = 'pipeline-directory-key';
const LIMIT = 60;

/**
 * Issue 11 end to end, on real api, worker and beat processes against the fake directory, the
 * fake websites and the fake enrichment API: a job runs to completion through every stage, the
 * worker is killed (-9) while qualifying and no lead becomes two contacts or two enrolments,
 * held leads are approved in bulk, and a rescore with a new model version fetches nothing.
 */
describe('the lead pipeline: find, dedupe, assess, enrich, score, hand off', () => {
  let db: TestDatabase;
  let redis: RedisServer;
  let sites: FakeSites;
  let enrichment: FakeEnrichment;
  let directory: FakeDirectory;
  let env: Record<string, string>;
  let pg: Client;
  const processes: HeraldProcess[] = [];

  beforeAll(async () => {
    [db, redis, sites, enrichment] = await Promise.all([
      createTestDatabase(),
      RedisServer.start(),
      FakeSites.start(),
      FakeEnrichment.start(),
    ]);
    directory = await FakeDirectory.start({
      seed: 11,
      count: 2000,
      apiKey: DIRECTORY_KEY,
      sitesPort: sites.httpPort,
      delayMs: 100,
    });
    env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: testRedisPrefix(),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      OUTBOUND_HOST_OVERRIDES: '*.sites.test=127.0.0.1',
      SOURCING_ASSESSMENT_TIMEOUT_MS: '3000',
      QUEUE_LOCK_DURATION_MS: '2000',
      QUEUE_STALLED_INTERVAL_MS: '1000',
    });
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });
  afterAll(async () => {
    await pg?.end();
    await Promise.all(processes.filter((p) => p.running).map((p) => p.stop()));
    await Promise.all([directory?.stop(), sites?.stop(), enrichment?.stop()]);
    await redis?.destroy();
    await db?.drop();
  });

  const count = async (sql: string, params: unknown[]) =>
    Number((await pg.query<{ n: string }>(sql, params)).rows[0]?.n ?? 0);

  it('runs a job to completion, survives kill -9 while qualifying, approves held leads and rescores without fetching', async () => {
    const [api, worker, beat] = await Promise.all([
      HeraldProcess.start('api', env),
      HeraldProcess.start('worker', env),
      HeraldProcess.start('beat', env),
    ]);
    processes.push(api, worker, beat);
    const tenant = await createTenant(api.publicUrl, TEST_ADMIN_KEY, 'Leads');
    const tenantId = tenant.id;
    const call = <T>(method: string, path: string, body?: unknown) =>
      callApi<T>(api.publicUrl, method, path, tenant.key, body);

    const wanted = directory.matching({ category: 'bakery' }).slice(0, LIMIT);
    expect(wanted).toHaveLength(LIMIT);
    // Dedupe: one business is already a contact (by email).
    const known = wanted.find((b) => b.email);
    expect(known).toBeDefined();
    expect((await call('POST', '/v1/contacts', { email: known!.email })).status).toBe(201);
    // Enrichment: one domain fails at the provider (the candidate is marked, the run goes on).
    const failing = wanted.find((b) => b !== known && b.website);
    const failingDomain = new URL(failing!.website).hostname;
    enrichment.failing.add(failingDomain);

    const sourcing = await directorySourcing(call, {
      directory,
      pageSize: 10,
      model: {
        name: 'Bakeries',
        rules: [
          { name: 'HTTPS', field: 'assessment.https', op: 'equals', value: true, points: 20 },
          { name: 'size known', field: 'enrichment.employees', op: 'exists', points: 20 },
        ],
      },
    });
    const enrichmentAccount = await call<{ id: string }>('POST', '/v1/source-accounts', {
      name: 'Enrichment',
      kind: 'http-enrichment',
      config: {
        base_url: enrichment.url,
        api_key: enrichment.apiKey,
        lookup: 'domain',
        mapping: { employees: 'company.employees' },
      },
    });
    expect(enrichmentAccount.status).toBe(201);
    const sender = await call<{ id: string }>('POST', '/v1/sender-accounts', {
      name: 'Hook',
      channel: 'webhook',
      config: { url: 'https://hooks.example.com/in', secret: 'x'.repeat(32) },
    });
    const campaign = await call<{ id: string }>('POST', '/v1/campaigns', {
      name: 'Trial',
      kind: 'sequence',
      sender_account_id: sender.body.id,
      steps: [{ delay: 86_400, body: 'Hello' }],
    });
    expect(campaign.status).toBe(201);
    const job = await call<{ id: string }>('POST', '/v1/sourcing-jobs', {
      name: 'Bakeries',
      source_account_id: sourcing.accountId,
      criteria: { category: 'bakery' },
      limit: LIMIT,
      scoring_model_id: sourcing.modelId,
      handoff: {
        A: { action: 'enroll', campaign_id: campaign.body.id },
        B: { action: 'hold' },
        C: { action: 'reject' },
        D: { action: 'reject' },
      },
    });
    expect(job.status).toBe(201);
    const run = await call<{ id: string }>('POST', `/v1/sourcing-jobs/${job.body.id}/runs`, {});
    expect(run.status).toBe(202);
    const runId = run.body.id;
    const stage = (where: string) =>
      count(`SELECT count(*) AS n FROM candidates WHERE run_id = $1 AND ${where}`, [runId]);

    // kill -9 the worker once qualifying has started and is not done.
    await eventually(
      async () => ((await stage(`stage IN ('scored', 'handed_off')`)) >= 5 ? true : undefined),
      { what: 'qualifying under way', timeoutMs: 120_000, intervalMs: 100 },
    );
    worker.signal('SIGKILL');
    await worker.exited;
    processes.push(await HeraldProcess.start('worker', env));

    const done = await eventually(
      async () => {
        const r = await call<{ status: string; stages: Record<string, number> }>(
          'GET',
          `/v1/sourcing-runs/${runId}`,
        );
        return r.body.status === 'completed' ? r.body : undefined;
      },
      { what: 'run completed', timeoutMs: 180_000, intervalMs: 500 },
    );
    // Progress by stage: the limit counts new candidates (a duplicate does not), none left in flight.
    expect(Object.values(done.stages).reduce((a, b) => a + b, 0)).toBe(LIMIT + 1);
    expect(done.stages.discovered ?? 0).toBe(0);
    expect(done.stages.assessed ?? 0).toBe(0);
    expect(done.stages.enriched ?? 0).toBe(0);
    expect(done.stages.duplicate).toBe(1);
    expect(
      await count(
        `SELECT count(*) AS n FROM candidates WHERE run_id = $1 AND stage = 'duplicate' AND lower(email) = lower($2)`,
        [runId, known!.email],
      ),
    ).toBe(1);
    // Assessed (a fetch of the site), enriched, and one enrichment failure marked on its candidate only.
    expect(await stage(`facts ? 'assessment'`)).toBeGreaterThan(LIMIT / 2);
    expect(await stage(`facts->'enrichment'->>'employees' IS NOT NULL`)).toBeGreaterThan(LIMIT / 2);
    expect(
      await count(
        `SELECT count(*) AS n FROM candidates WHERE run_id = $1 AND website_domain = $2 AND facts->>'enrichment_error' LIKE 'http_500%'`,
        [runId, failingDomain],
      ),
    ).toBe(1);
    expect(await stage(`facts->>'enrichment_error' IS NOT NULL`)).toBe(1);
    // Scored with an explanation.
    expect(await stage(`stage IN ('scored', 'handed_off') AND (score IS NULL OR explain IS NULL)`)).toBe(0);
    // Tier A: one contact and one enrolment each, whatever the kill -9 repeated.
    const tierA = await stage(`tier = 'A'`);
    expect(tierA).toBeGreaterThan(0);
    expect(await stage(`tier = 'A' AND stage = 'handed_off' AND enrollment_id IS NOT NULL`)).toBe(tierA);
    const enrolments = () =>
      count(`SELECT count(*) AS n FROM enrollments WHERE campaign_id = $1`, [campaign.body.id]);
    expect(await enrolments()).toBe(tierA);
    const contacts = () => count(`SELECT count(*) AS n FROM contacts WHERE tenant_id = $1`, [tenantId]);
    expect(await contacts()).toBe(1 + tierA);
    expect(await stage(`contact_id IS NOT NULL`)).toBe(tierA);

    // Tier B is held; approved in bulk, each becomes a contact (not enrolled).
    const { rows: held } = await pg.query<{ id: string }>(
      `SELECT id FROM candidates WHERE run_id = $1 AND held AND contact_id IS NULL ORDER BY id`,
      [runId],
    );
    expect(held.length).toBeGreaterThan(0);
    expect(await stage(`held AND tier <> 'B'`)).toBe(0);
    const approved = await call('POST', `/v1/sourcing-runs/${runId}/candidates/approve`, {
      candidate_ids: held.map((h) => h.id),
    });
    expect(approved.status).toBe(200);
    expect(
      await count(
        `SELECT count(*) AS n FROM candidates WHERE id = ANY($1::uuid[]) AND stage = 'handed_off' AND contact_id IS NOT NULL AND enrollment_id IS NULL`,
        [held.map((h) => h.id)],
      ),
    ).toBe(held.length);
    expect(await contacts()).toBe(1 + tierA + held.length);
    expect(await enrolments()).toBe(tierA);

    // Rescore with a new version (A from 40): tiers change, nothing is fetched again.
    const requests = [directory.requests.length, sites.requests.length, enrichment.lookups.length];
    const version = await call<{ version: number }>(
      'POST',
      `/v1/scoring-models/${sourcing.modelId}/versions`,
      {
        rules: [
          { name: 'site answers', field: 'assessment.status', op: 'range', min: 200, max: 299, points: 40 },
          { name: 'HTTPS', field: 'assessment.https', op: 'equals', value: true, points: 20 },
          { name: 'size known', field: 'enrichment.employees', op: 'exists', points: 20 },
        ],
        tiers: { A: 40, B: 30, C: 20 },
      },
    );
    expect(version.status).toBe(201);
    const rescored = await call('POST', `/v1/sourcing-runs/${runId}/rescore`, {
      version: version.body.version,
    });
    expect(rescored.status).toBe(200);
    expect(await stage(`tier = 'A'`)).toBeGreaterThan(tierA);
    expect(
      await stage(`tier = 'A' AND scoring_model_version = $2`.replace('$2', String(version.body.version))),
    ).toBeGreaterThan(0);
    expect([directory.requests.length, sites.requests.length, enrichment.lookups.length]).toEqual(requests);
    // Hand-offs made stay made: no new contact or enrolment from a rescore.
    expect(await contacts()).toBe(1 + tierA + held.length);
    expect(await enrolments()).toBe(tierA);
  });
});
