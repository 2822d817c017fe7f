import { OutboundGuard } from '@herald/channels';
import { uuidv7 } from '@herald/contacts';
import { JobProducer, QUEUES } from '@herald/queues';
import {
  CandidateWriter,
  guardedGet,
  SourcingRunExecutor,
  SourcingRunMetrics,
  SourceAccountsRepository,
  SourcingSchedules,
  sourceCircuitKey,
  SourceFetchError,
  type FoundCandidate,
} from '@herald/sourcing';
import { previousSlot } from '@herald/time';
import { CircuitBreaker } from '@herald/resilience';
import { eventually, FakeDirectory } from '@herald/testing';
import { register } from 'prom-client';
import { DataSource } from 'typeorm';
import { TestApi } from '../../../test/support/api-app';

type Problem = { status: number; errors: { field: string; message: string }[]; detail: string };
type Account = { id: string; config: Record<string, unknown>; secret_fields: string[]; status: string };
type Job = { id: string };
type Run = {
  id: string;
  status: string;
  dry_run: boolean;
  discovered: number;
  duplicates: number;
  requests_spent: number;
  exhausted: boolean;
  stages: Record<string, number>;
  scoring_model_version: number;
  reason: string | null;
  error: string | null;
  forecast: {
    requests: number;
    kind: string;
    by_day: { date: string; count: number }[];
    finishes_at: string | null;
  } | null;
};
type Candidate = {
  id: string;
  stage: string;
  name: string;
  email: string | null;
  website_domain: string | null;
  external_id: string | null;
  duplicate_of: { rule: string; candidate_id?: string; contact_id?: string } | null;
  source: { account_id: string; key: string; raw_hash: string };
};
type Page<T> = { data: T[]; next_cursor: string | null };

const API_KEY = 'directory-secret-key-that-must-never-leak';

describe('sourcing: source accounts, jobs, runs and candidates', () => {
  let api: TestApi;
  let directory: FakeDirectory;
  let tenant: { id: string; key: string };
  let modelId: string;

  beforeAll(async () => {
    directory = await FakeDirectory.start({ seed: 7, count: 2000, apiKey: API_KEY, sitesPort: 8081 });
    api = await TestApi.start({ OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true' });
    tenant = await api.createTenant('Finder', 'Europe/Paris');
    modelId = uuidv7();
    await api.query(
      `INSERT INTO scoring_models (tenant_id, id, name, current_version) VALUES ($1, $2, 'm', 3)`,
      [tenant.id, modelId],
    );
  });
  afterAll(async () => {
    await api.close();
    await directory.stop();
  });

  const post = <T>(path: string, body: unknown) =>
    api.request<T & Problem>('POST', path, { key: tenant.key, body });
  const get = <T>(path: string) => api.request<T & Problem>('GET', path, { key: tenant.key });
  const executor = () => api.app.get(SourcingRunExecutor);

  async function directoryAccount(config: Record<string, unknown> = {}, quotas?: Record<string, number>) {
    const res = await post<Account>('/v1/source-accounts', {
      name: 'Directory',
      kind: 'http-directory',
      config: { base_url: directory.url(), api_key: API_KEY, page_size: 50, ...config },
      ...(quotas ? { quotas } : {}),
    });
    expect(res.status).toBe(201);
    return res;
  }

  async function job(accountId: string, criteria: Record<string, unknown>, limit: number) {
    const res = await post<Job>('/v1/sourcing-jobs', {
      name: 'Bakeries',
      source_account_id: accountId,
      criteria,
      limit,
      scoring_model_id: modelId,
      handoff: { A: { action: 'contact' }, B: { action: 'hold' } },
    });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function runToEnd(runId: string, maxSlices = 50): Promise<Run> {
    for (let i = 0; i < maxSlices; i++) {
      const outcome = await executor().run(tenant.id, runId);
      if (outcome.kind !== 'wait') break;
    }
    return (await get<Run>(`/v1/sourcing-runs/${runId}`)).body;
  }

  async function allCandidates(runId: string, query = ''): Promise<Candidate[]> {
    const out: Candidate[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<Candidate> = (
        await get<Page<Candidate>>(
          `/v1/sourcing-runs/${runId}/candidates?limit=30${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        )
      ).body;
      out.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    return out;
  }

  it('seals an account’s key: never in a response, only sealed in the database', async () => {
    const res = await directoryAccount();
    expect(res.body.secret_fields).toEqual(['api_key']);
    expect(res.body.config).toMatchObject({ base_url: directory.url(), pagination: 'cursor', page_size: 50 });
    expect(res.text).not.toContain(API_KEY);
    const [row] = await api.query<{ settings: unknown; credentials: string }>(
      'SELECT settings, credentials FROM source_accounts WHERE id = $1',
      [res.body.id],
    );
    expect(JSON.stringify(row!.settings)).not.toContain(API_KEY);
    expect(row!.credentials).toMatch(/^v1:/);
    expect(row!.credentials).not.toContain(API_KEY);
    const listed = await get<Page<Account>>('/v1/source-accounts');
    expect(listed.text).not.toContain(API_KEY);
    const paused = await post<Account>(`/v1/source-accounts/${res.body.id}/pause`, undefined);
    expect(paused.body.status).toBe('paused');
    expect((await post<Account>(`/v1/source-accounts/${res.body.id}/resume`, undefined)).body.status).toBe(
      'active',
    );
    await api.query(`UPDATE source_accounts SET status = 'disabled' WHERE id = $1`, [res.body.id]);
    const refused = await post<Account>(`/v1/source-accounts/${res.body.id}/pause`, undefined);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe('This source account is disabled: it cannot be paused or resumed.');
    expect((await post(`/v1/source-accounts/${uuidv7()}/resume`, undefined)).status).toBe(404);
  });

  it('changes an account and a job only where asked: a new config is sealed again; jobs list by status', async () => {
    const patch = <T>(path: string, body: unknown) =>
      api.request<T & Problem>('PATCH', path, { key: tenant.key, body });
    const account = await directoryAccount({}, { daily: 100 });
    const renamed = await patch<Account & { name: string; quotas: Record<string, number | null> }>(
      `/v1/source-accounts/${account.body.id}`,
      { name: 'Renamed', quotas: { hourly: 7 } },
    );
    expect(renamed.body).toMatchObject({ name: 'Renamed', quotas: { hourly: 7, daily: 100, weekly: null } });
    expect(renamed.body.config).toMatchObject({ base_url: directory.url(), page_size: 50 });
    const newKey = 'a-second-directory-key-never-returned';
    const rekeyed = await patch<Account>(`/v1/source-accounts/${account.body.id}`, {
      config: { base_url: directory.url(), api_key: newKey, page_size: 20 },
    });
    expect(rekeyed.body.config).toMatchObject({ page_size: 20 });
    expect(rekeyed.text).not.toContain(newKey);
    const unsealed = await api.app.get(SourceAccountsRepository).unsealed(tenant.id, account.body.id);
    expect(unsealed?.config).toMatchObject({ api_key: newKey, page_size: 20 });
    expect(unsealed).toMatchObject({ name: 'Renamed', quotas: { hourly: 7, daily: 100 } });
    const unchanged = await patch<Account & { name: string }>(`/v1/source-accounts/${account.body.id}`, {});
    expect(unchanged.body.name).toBe('Renamed');
    expect((await patch(`/v1/source-accounts/${uuidv7()}`, { name: 'x' })).status).toBe(404);

    const jobId = await job(account.body.id, {}, 10);
    const changed = await patch<{ name: string; limit: number; status: string }>(
      `/v1/sourcing-jobs/${jobId}`,
      {
        limit: 25,
      },
    );
    expect(changed.body).toMatchObject({ name: 'Bakeries', limit: 25, status: 'active' });
    expect((await patch(`/v1/sourcing-jobs/${uuidv7()}`, { limit: 1 })).status).toBe(404);
    expect((await post(`/v1/sourcing-jobs/${jobId}/archive`, undefined)).status).toBe(200);
    const archived = await get<Page<Job>>('/v1/sourcing-jobs?status=archived&limit=100');
    const active = await get<Page<Job>>('/v1/sourcing-jobs?status=active&limit=100');
    expect(archived.body.data.map((j) => j.id)).toContain(jobId);
    expect(active.body.data.map((j) => j.id)).not.toContain(jobId);
  });

  it('refuses bad account configs and bad job criteria with a 400 naming the field', async () => {
    const badUrl = await post('/v1/source-accounts', {
      name: 'x',
      kind: 'http-directory',
      config: { base_url: 'ftp://nope' },
    });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.errors.map((e) => e.field)).toContain('config.base_url');
    const badKind = await post('/v1/source-accounts', { name: 'x', kind: 'carrier-pigeon', config: {} });
    expect(badKind.status).toBe(400);

    const account = await directoryAccount();
    const nested = await post('/v1/sourcing-jobs', {
      name: 'x',
      source_account_id: account.body.id,
      criteria: { category: { nested: true } },
      limit: 10,
      scoring_model_id: modelId,
    });
    expect(nested.status).toBe(400);
    expect(nested.body.errors.map((e) => e.field)).toContain('criteria.category');

    const visits = await post<Account>('/v1/source-accounts', {
      name: 'v',
      kind: 'profile-visit',
      config: {},
    });
    const noUrls = await post('/v1/sourcing-jobs', {
      name: 'x',
      source_account_id: visits.body.id,
      criteria: { profile_urls: ['not a url'] },
      limit: 10,
      scoring_model_id: modelId,
    });
    expect(noUrls.status).toBe(400);
    expect(noUrls.body.errors.map((e) => e.field)).toContain('criteria.profile_urls.0');

    const unknown = await post('/v1/sourcing-jobs', {
      name: 'x',
      source_account_id: account.body.id,
      criteria: {},
      limit: 10,
      scoring_model_id: uuidv7(),
      handoff: { A: { action: 'enroll' } },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors.map((e) => e.field).sort()).toEqual(
      expect.arrayContaining(['handoff.A.campaign_id']),
    );
    const noModel = await post('/v1/sourcing-jobs', {
      name: 'x',
      source_account_id: account.body.id,
      criteria: {},
      limit: 10,
      scoring_model_id: uuidv7(),
    });
    expect(noModel.status).toBe(400);
    expect(noModel.body.errors.map((e) => e.field)).toEqual(['scoring_model_id']);
  });

  it('runs a search to its limit, pages the candidates, and dedupes a second run against the first and a contact', async () => {
    const account = await directoryAccount({}, { daily: 1000 });
    const bakeries = directory.matching({ category: 'bakery' });
    expect(bakeries.length).toBeGreaterThan(60);
    const contactEmail = bakeries[1]!.email.replace('@', '+promo@');
    expect((await post('/v1/contacts', { email: contactEmail, first_name: 'Known' })).status).toBe(201);
    const jobId = await job(account.body.id, { category: 'bakery' }, 60);
    const started = await post<Run>(`/v1/sourcing-jobs/${jobId}/runs`, {});
    expect(started.status).toBe(202);
    expect(started.body.scoring_model_version).toBe(3);
    expect((await post(`/v1/sourcing-jobs/${jobId}/runs`, {})).status).toBe(409);
    const run = await runToEnd(started.body.id);
    expect(run).toMatchObject({ discovered: 60, duplicates: 1, requests_spent: 2 });
    const candidates = await allCandidates(run.id);
    expect(candidates).toHaveLength(61);
    expect(new Set(candidates.map((c) => c.id)).size).toBe(61);
    const dup = candidates.find((c) => c.stage === 'duplicate')!;
    expect(dup.duplicate_of).toMatchObject({ rule: 'email' });
    expect(dup.duplicate_of!.contact_id).toBeDefined();
    expect((await allCandidates(run.id, '&stage=discovered')).length).toBe(60);
    // The directory saw exactly the pages charged, each with the key.
    const searches = directory.requests.filter((r) => r.query.category === 'bakery');
    expect(searches.every((r) => r.authorized)).toBe(true);

    // The stand-in for qualifying: scored with the hand-off still to come is open; held for a
    // person is not, so the run completes once touched.
    await api.query(`UPDATE candidates SET stage = 'scored' WHERE run_id = $1 AND stage = 'discovered'`, [
      run.id,
    ]);
    expect((await runToEnd(run.id)).status).toBe('running');
    await api.query(`UPDATE candidates SET held = true WHERE run_id = $1 AND stage = 'scored'`, [run.id]);
    expect((await runToEnd(run.id)).status).toBe('completed');

    const again = await post<Run>(`/v1/sourcing-jobs/${jobId}/runs`, {});
    const second = await runToEnd(again.body.id);
    // What the first run found is duplicate now; the search goes on to new ones up to the limit.
    expect(second.discovered).toBe(60);
    expect(second.duplicates).toBe(61);
    const seconds = await allCandidates(second.id);
    const byExternal = seconds.find((c) => c.external_id === bakeries[0]!.id)!;
    // Email is the first rule tried, so it names the match even though the external id agrees too.
    expect(byExternal.duplicate_of).toMatchObject({ rule: 'email' });
    expect(candidates.map((c) => c.id)).toContain(byExternal.duplicate_of!.candidate_id);
  });

  it('serialises dedupe between runs of one tenant: what one writes, another writing at once sees', async () => {
    const account = await directoryAccount();
    const [jobA, jobB] = await Promise.all([job(account.body.id, {}, 10), job(account.body.id, {}, 10)]);
    // Dry runs: rows to write candidates under, with no search of their own on the queue.
    const start = async (id: string) =>
      (await post<Run>(`/v1/sourcing-jobs/${id}/runs`, { dry_run: true })).body.id;
    const [runA, runB] = await Promise.all([start(jobA), start(jobB)]);
    const found = (suffix: string): FoundCandidate[] =>
      ['Alder', 'Birch', 'Cedar'].map((name) => ({
        sourceKey: `${name}-${suffix}`,
        name: `${name} Joinery`,
        website: `https://${name.toLowerCase()}-joinery.example/`,
        email: `hello@${name.toLowerCase()}-joinery.example`,
        facts: {},
        raw: { name },
      }));
    const writer = api.app.get(CandidateWriter);
    const dataSource = api.app.get(DataSource);
    const scope = (runId: string, jobId: string) => ({
      tenantId: tenant.id,
      runId,
      jobId,
      sourceAccountId: account.body.id,
      room: 10,
    });
    const first = dataSource.createQueryRunner();
    await first.connect();
    await first.startTransaction();
    try {
      const a = await writer.write(first.manager, scope(runA, jobA), found('a'));
      expect(a.discovered).toHaveLength(3);
      const second = dataSource.transaction((manager) =>
        writer.write(manager, scope(runB, jobB), found('b')),
      );
      // The second writer waits for the first's transaction, on the tenant's dedupe lock.
      await eventually(
        async () => {
          const [waiting] = await api.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
          );
          return Number(waiting!.n) > 0;
        },
        { what: 'the second writer waiting on the dedupe lock' },
      );
      await first.commitTransaction();
      const b = await second;
      expect(b.discovered).toHaveLength(0);
      expect(b.duplicates).toBe(3);
    } finally {
      if (first.isTransactionActive) await first.rollbackTransaction();
      await first.release();
    }
    const rows = await api.query<{ run_id: string; stage: string; n: string }>(
      `SELECT run_id, stage, count(*) AS n FROM candidates WHERE run_id = ANY ($1::uuid[]) GROUP BY 1, 2 ORDER BY 2`,
      [[runA, runB]],
    );
    expect(rows.map((r) => [r.run_id, r.stage, Number(r.n)])).toEqual([
      [runA, 'discovered', 3],
      [runB, 'duplicate', 3],
    ]);
  });

  it('shows a source account’s breaker to its tenant: closed, then open after failures; another tenant’s is a 404', async () => {
    const account = await directoryAccount();
    const circuit = () =>
      get<{ key: string; kind: string; source_account_id: string; state: string }>(
        `/v1/source-accounts/${account.body.id}/circuit`,
      );
    expect((await circuit()).body).toMatchObject({
      key: `http-directory:${account.body.id}`,
      kind: 'http-directory',
      source_account_id: account.body.id,
      state: 'closed',
    });
    const breaker = api.app.get(CircuitBreaker);
    const key = sourceCircuitKey({ kind: 'http-directory', id: account.body.id });
    for (let i = 0; i < 10; i++) await breaker.recordFailure(key);
    const open = (await circuit()).body as unknown as Record<string, unknown>;
    expect(Object.keys(open)).toEqual([
      'key',
      'kind',
      'source_account_id',
      'state',
      'failures',
      'open_until',
      'period_ms',
    ]);
    expect(open).toMatchObject({ state: 'open', failures: expect.any(Number) as number });
    expect(Date.parse(open.open_until as string)).toBeGreaterThan(Date.now());
    expect(open.period_ms).toBeGreaterThan(0);
    await breaker.forceClose(key);
    const stranger = await api.createTenant('Stranger');
    const theirs = await api.request('GET', `/v1/source-accounts/${account.body.id}/circuit`, {
      key: stranger.key,
    });
    expect(theirs.status).toBe(404);
  });

  it('reads an uploaded CSV list, deduplicating rows within it by email and domain with name', async () => {
    const account = await post<Account>('/v1/source-accounts', {
      name: 'List',
      kind: 'csv',
      config: { columns: { website: 'site' } },
    });
    expect(account.status).toBe(201);
    const csv = [
      'name,email,site,phone',
      'Café Zoë,zoe@cafe-zoe.example,https://www.cafe-zoe.example/,+33 1',
      'Cafe Zoe Ltd,,http://cafe-zoe.example,+33 2',
      'Ada Shop,Ada+shop@Example.org,,',
      'Ada Again,ada@example.org,,',
      'Lone Row,,,',
    ].join('\n');
    const bad = await post('/v1/sourcing-jobs', {
      name: 'bad',
      source_account_id: account.body.id,
      criteria: { csv: 'name,email\n"unterminated,x\n' },
      limit: 10,
      scoring_model_id: modelId,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.field)).toEqual(['criteria.csv']);
    const jobId = await job(account.body.id, { csv }, 10);
    const started = await post<Run>(`/v1/sourcing-jobs/${jobId}/runs`, {});
    const run = await runToEnd(started.body.id);
    expect(run).toMatchObject({ discovered: 3, duplicates: 2, requests_spent: 0, exhausted: true });
    const found = await allCandidates(run.id);
    const byName = new Map(found.map((c) => [c.name, c]));
    expect(byName.get('Cafe Zoe Ltd')!.duplicate_of).toEqual({
      rule: 'domain_name',
      candidate_id: byName.get('Café Zoë')!.id,
    });
    expect(byName.get('Ada Again')!.duplicate_of).toEqual({
      rule: 'email',
      candidate_id: byName.get('Ada Shop')!.id,
    });
    expect(byName.get('Lone Row')!.stage).toBe('discovered');
  });

  it('repeats a step after a crash without a new candidate or a second quota unit', async () => {
    const account = await directoryAccount({ page_size: 10 }, { daily: 100 });
    const jobId = await job(account.body.id, { category: 'garage' }, 30);
    const started = await post<Run>(`/v1/sourcing-jobs/${jobId}/runs`, {});
    const run = await runToEnd(started.body.id);
    expect(run.requests_spent).toBe(3);
    const before = (
      await get<{ windows: { used: number }[] }>(`/v1/source-accounts/${account.body.id}/quota`)
    ).body;
    const rows = await api.query<{ n: string }>('SELECT count(*) AS n FROM candidates WHERE run_id = $1', [
      run.id,
    ]);
    // As if the worker died after fetching the last page and before its transaction committed:
    // the cursor still names that page and its candidates are not written.
    await api.query(
      `DELETE FROM candidates WHERE id IN (SELECT id FROM candidates WHERE run_id = $1 ORDER BY id DESC LIMIT 10)`,
      [run.id],
    );
    await api.query(
      `UPDATE sourcing_runs SET cursor = '20', exhausted = false, discovered = 20, requests_spent = 2, status = 'running' WHERE id = $1`,
      [run.id],
    );
    await executor().run(tenant.id, run.id);
    const after = (await get<{ windows: { used: number }[] }>(`/v1/source-accounts/${account.body.id}/quota`))
      .body;
    expect(after.windows[0]!.used).toBe(before.windows[0]!.used);
    const rowsAfter = await api.query<{ n: string }>(
      'SELECT count(*) AS n FROM candidates WHERE run_id = $1',
      [run.id],
    );
    expect(rowsAfter[0]!.n).toBe(rows[0]!.n);
  });

  it('forecasts a dry run against the quota without fetching anything', async () => {
    const account = await directoryAccount({ page_size: 10 }, { daily: 3 });
    const jobId = await job(account.body.id, { category: 'florist' }, 70);
    const seen = directory.requests.length;
    const dry = await post<Run>(`/v1/sourcing-jobs/${jobId}/runs`, { dry_run: true });
    expect(dry.status).toBe(202);
    expect(dry.body).toMatchObject({ dry_run: true, status: 'completed' });
    expect(dry.body.forecast).toMatchObject({ requests: 7, kind: 'search' });
    expect(dry.body.forecast!.by_day.map((d) => d.count)).toEqual([3, 3, 1]);
    expect(directory.requests.length).toBe(seen);
  });

  it('pauses, resumes and cancels a run; a completed run cannot be cancelled', async () => {
    const account = await directoryAccount({ page_size: 10 });
    const jobId = await job(account.body.id, { category: 'cafe' }, 40);
    const started = await post<Run>(`/v1/sourcing-jobs/${jobId}/runs`, {});
    const paused = await post<Run>(`/v1/sourcing-runs/${started.body.id}/pause`, undefined);
    expect(paused.body.status).toBe('paused');
    expect(await executor().run(tenant.id, started.body.id)).toEqual({ kind: 'stopped', status: 'paused' });
    expect((await get<Run>(`/v1/sourcing-runs/${started.body.id}`)).body.discovered).toBe(0);
    const resumed = await post<Run>(`/v1/sourcing-runs/${started.body.id}/resume`, undefined);
    expect(resumed.body.status).toBe('running');
    const cancelled = await post<Run>(`/v1/sourcing-runs/${started.body.id}/cancel`, undefined);
    expect(cancelled.body.status).toBe('cancelled');
    expect((await post<Run>(`/v1/sourcing-runs/${started.body.id}/resume`, undefined)).status).toBe(409);
  });

  it.each([
    ['loop', 'more than 3 redirects'],
    ['huge', 'answered more than'],
  ] as const)(
    'fails a run on a hostile directory (%s) with a clear error, keeping the cursor',
    async (mode, message) => {
      const account = await directoryAccount({
        base_url: directory.url(mode),
        timeout_ms: 500,
        max_bytes: 100_000,
      });
      const jobId = await job(account.body.id, { category: 'gym' }, 20);
      const started = await post<Run>(`/v1/sourcing-jobs/${jobId}/runs`, {});
      const run = await runToEnd(started.body.id, 10);
      expect(run.status).toBe('failed');
      expect(run.error).toContain(message);
      expect(run.discovered).toBe(0);
    },
  );

  it('retries a directory answering 500 with the error on the run, and fails it after a bound', async () => {
    const account = await directoryAccount({ base_url: directory.url('error') });
    const jobId = await job(account.body.id, { category: 'gym' }, 20);
    const started = await post<Run>(`/v1/sourcing-jobs/${jobId}/runs`, {});
    const outcome = await executor().run(tenant.id, started.body.id);
    expect(outcome.kind).toBe('wait');
    expect(outcome.kind === 'wait' && outcome.reason).toContain('answered 500');
    const waiting = (await get<Run>(`/v1/sourcing-runs/${started.body.id}`)).body;
    expect(waiting.status).toBe('running');
    expect(waiting.error).toContain('answered 500');
    await api.query(`UPDATE sourcing_runs SET failures = 4 WHERE id = $1`, [started.body.id]);
    await api.app.get(CircuitBreaker).forceClose({ channel: 'http-directory', account: account.body.id });
    await executor().run(tenant.id, started.body.id);
    const failed = (await get<Run>(`/v1/sourcing-runs/${started.body.id}`)).body;
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('5 attempts');
    // A failed run resumes from its cursor.
    expect((await post<Run>(`/v1/sourcing-runs/${started.body.id}/resume`, undefined)).body.status).toBe(
      'running',
    );
  });

  it('schedules a job in the tenant’s zone: one job scheduler, one run per slot however often it fires', async () => {
    const account = await directoryAccount({ page_size: 10 });
    const created = await post<Job>('/v1/sourcing-jobs', {
      name: 'Every morning',
      source_account_id: account.body.id,
      criteria: { category: 'dentist' },
      limit: 5,
      schedule: { at: '06:30' },
      scoring_model_id: modelId,
    });
    expect(created.status).toBe(201);
    const schedules = api.app.get(SourcingSchedules);
    expect(await schedules.reconcile()).toBeGreaterThanOrEqual(1);
    const queue = api.app.get(JobProducer).queue(QUEUES.sourcing);
    const scheduler = (await queue.getJobSchedulers(0, -1)).find(
      (s) => s.key === `sourcing-job-${created.body.id}`,
    );
    expect(scheduler).toMatchObject({ pattern: '30 6 * * *', tz: 'Europe/Paris' });
    const slot = previousSlot({ at: '06:30', timeZone: 'Europe/Paris' }, Date.now()).getTime();
    const first = await schedules.fire(tenant.id, created.body.id, slot);
    const again = await schedules.fire(tenant.id, created.body.id, slot);
    expect(first.outcome).toBe('fired');
    expect(again.outcome).toBe('duplicate');
    const runs = await get<Page<Run & { trigger: string }>>(`/v1/sourcing-runs?job_id=${created.body.id}`);
    expect(runs.body.data).toHaveLength(1);
    expect(runs.body.data[0]).toMatchObject({ trigger: 'schedule', status: 'queued' });
    // Unscheduled: the job scheduler goes.
    await api.request('PATCH', `/v1/sourcing-jobs/${created.body.id}`, {
      key: tenant.key,
      body: { schedule: null },
    });
    await schedules.reconcile();
    expect(
      (await queue.getJobSchedulers(0, -1)).some((s) => s.key === `sourcing-job-${created.body.id}`),
    ).toBe(false);
  });

  it('counts candidates and requests, and reads active runs and the oldest progress age at scrape', async () => {
    const candidates = await register.getSingleMetric('herald_sourcing_candidates_total')!.get();
    const discovered = candidates.values.find((v) => v.labels.stage === 'discovered');
    expect(discovered?.value).toBeGreaterThan(100);
    expect(candidates.values.find((v) => v.labels.stage === 'duplicate')?.value).toBeGreaterThan(0);
    const requests = await register.getSingleMetric('herald_sourcing_requests_total')!.get();
    expect(
      requests.values.find((v) => v.labels.kind === 'search' && v.labels.outcome === 'ok')?.value,
    ).toBeGreaterThan(3);
    expect(requests.values.some((v) => v.labels.outcome === 'too_many_redirects')).toBe(true);
    new SourcingRunMetrics(api.app.get(DataSource)).onModuleInit();
    const [active] = await api.query<{ n: string }>(
      `SELECT count(*) AS n FROM sourcing_runs WHERE status IN ('queued', 'running', 'paused')`,
    );
    expect((await register.getSingleMetric('herald_sourcing_active_runs')!.get()).values[0]?.value).toBe(
      Number(active!.n),
    );
    const age = (await register.getSingleMetric('herald_sourcing_oldest_progress_age_seconds')!.get())
      .values[0];
    expect(age?.value).toBeGreaterThan(0);
  });

  it('refuses a private address unless private networks are allowed', async () => {
    const guard = new OutboundGuard({ allowPrivateNetworks: false });
    await expect(
      guardedGet(directory.url(), { guard, timeoutMs: 1000, maxBytes: 1000, maxRedirects: 0 }),
    ).rejects.toMatchObject({ failure: 'address_refused' });
    await expect(
      guardedGet('http://127.0.0.1:9/', {
        guard: new OutboundGuard({ allowPrivateNetworks: true }),
        timeoutMs: 1000,
        maxBytes: 1000,
        maxRedirects: 0,
      }),
    ).rejects.toBeInstanceOf(SourceFetchError);
  });
});
