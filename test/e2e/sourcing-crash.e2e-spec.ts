import { hashTaggedPrefix } from '@herald/queues';
import {
  callApi,
  createTenant,
  createTestDatabase,
  eventually,
  FakeDirectory,
  FakeSites,
  HeraldProcess,
  RedisServer,
  TEST_ADMIN_KEY,
  testEnvironment,
  testRedisPrefix,
  type TestDatabase,
} from '@herald/testing';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { directoryAccount, directorySourcing } from '../support/sourcing-fixture';

jest.setTimeout(180_000);

const API_KEY = 'crash-directory-key-that-must-never-be-logged';

/**
 * Issue 11 item 2: a run resumes from its cursor after any crash. The worker is killed (-9)
 * mid-run; another takes the stalled job and the run goes on from its cursor: every candidate
 * found once, no search request charged twice to the quota, at most the page in flight fetched
 * again.
 */
describe('a sourcing run survives kill -9 of its worker', () => {
  let db: TestDatabase;
  let redis: RedisServer;
  let directory: FakeDirectory;
  let env: Record<string, string>;
  const processes: HeraldProcess[] = [];

  beforeAll(async () => {
    [db, redis, directory] = await Promise.all([
      createTestDatabase(),
      RedisServer.start(),
      FakeDirectory.start({ seed: 3, count: 3000, apiKey: API_KEY, delayMs: 150 }),
    ]);
    env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: testRedisPrefix(),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      QUEUE_LOCK_DURATION_MS: '2000',
      QUEUE_STALLED_INTERVAL_MS: '1000',
    });
  });
  afterAll(async () => {
    await Promise.all(processes.filter((p) => p.running).map((p) => p.stop()));
    await directory?.stop();
    await redis?.destroy();
    await db?.drop();
  });

  it('finds every candidate once and charges every page once', async () => {
    const [api, worker] = await Promise.all([
      HeraldProcess.start('api', env),
      HeraldProcess.start('worker', env),
    ]);
    processes.push(api, worker);
    const tenant = await createTenant(api.publicUrl, TEST_ADMIN_KEY, 'Crash');
    const key = tenant.key;
    const call = <T>(method: string, path: string, body?: unknown) =>
      callApi<T>(api.publicUrl, method, path, key, body);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const modelId = '0190f5e4-aaaa-7c3d-8e4f-5a6b7c8d9e0f';
    await client.query(`INSERT INTO scoring_models (tenant_id, id, name) VALUES ($1, $2, 'm')`, [
      tenant.id,
      modelId,
    ]);
    const accountId = await directoryAccount(call, { directory, pageSize: 20, quotas: { daily: 1000 } });
    const wanted = directory.matching({ category: 'bakery' });
    const limit = 300;
    expect(wanted.length).toBeGreaterThan(limit);
    const job = await call<{ id: string }>('POST', '/v1/sourcing-jobs', {
      name: 'Bakeries',
      source_account_id: accountId,
      criteria: { category: 'bakery' },
      limit,
      scoring_model_id: modelId,
    });
    const run = await call<{ id: string }>('POST', `/v1/sourcing-jobs/${job.body.id}/runs`, {});
    expect(run.status).toBe(202);

    const discovered = async () =>
      (
        await client.query<{ discovered: number }>('SELECT discovered FROM sourcing_runs WHERE id = $1', [
          run.body.id,
        ])
      ).rows[0]!.discovered;
    await eventually(async () => ((await discovered()) >= 80 ? true : undefined), { what: 'run under way' });
    worker.signal('SIGKILL');
    await worker.exited;
    const atCrash = await discovered();
    expect(atCrash).toBeLessThan(limit);

    processes.push(await HeraldProcess.start('worker', env));
    await eventually(async () => ((await discovered()) >= limit ? true : undefined), {
      what: 'run reached its limit',
      timeoutMs: 120_000,
    });

    const { rows } = await client.query<{ external_id: string; n: string }>(
      `SELECT external_id, count(*) AS n FROM candidates WHERE run_id = $1 GROUP BY external_id`,
      [run.body.id],
    );
    expect(rows).toHaveLength(limit);
    expect(rows.every((r) => r.n === '1')).toBe(true);
    // The first `limit` businesses of the search, none lost, none twice.
    expect(rows.map((r) => r.external_id).sort()).toEqual(
      wanted
        .slice(0, limit)
        .map((b) => b.id)
        .sort(),
    );
    const [state] = (
      await client.query<{ requests_spent: number; duplicates: number }>(
        'SELECT requests_spent, duplicates FROM sourcing_runs WHERE id = $1',
        [run.body.id],
      )
    ).rows;
    const pages = limit / 20;
    expect(state).toEqual({ requests_spent: pages, duplicates: 0 });
    const quota = await call<{ windows: { used: number }[] }>(
      'GET',
      `/v1/source-accounts/${accountId}/quota`,
    );
    expect(quota.body.windows[0]!.used).toBe(pages);
    const searches = directory.requests.filter((r) => r.query.category === 'bakery');
    expect(searches.length).toBeGreaterThanOrEqual(pages);
    expect(searches.length).toBeLessThanOrEqual(pages + 1);
    // The account's key went to the directory on every page and never into a log line.
    expect(searches.every((r) => r.authorized)).toBe(true);
    expect(JSON.stringify(processes.flatMap((p) => p.lines))).not.toContain(API_KEY);
    const { rows: sealed } = await client.query<{ credentials: string }>(
      'SELECT credentials FROM source_accounts WHERE id = $1',
      [accountId],
    );
    expect(sealed[0]!.credentials).not.toContain(API_KEY);
    await client.end();
  });
});

/** A fleet with a beat for one describe: its own database, Redis, prefix, directory and sites. */
function beatFleet(directory: { seed: number; delayMs: number }) {
  const fleet = {} as {
    db: TestDatabase;
    redis: RedisServer;
    sites: FakeSites;
    directory: FakeDirectory;
    env: Record<string, string>;
    pg: Client;
    admin: Redis;
    processes: HeraldProcess[];
  };
  beforeAll(async () => {
    [fleet.db, fleet.redis, fleet.sites] = await Promise.all([
      createTestDatabase(),
      RedisServer.start(),
      FakeSites.start(),
    ]);
    fleet.directory = await FakeDirectory.start({
      ...directory,
      count: 3000,
      apiKey: API_KEY,
      sitesPort: fleet.sites.httpPort,
    });
    fleet.env = testEnvironment({
      DATABASE_URL: fleet.db.url,
      REDIS_URL: fleet.redis.url,
      QUEUE_PREFIX: testRedisPrefix(),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      OUTBOUND_HOST_OVERRIDES: '*.sites.test=127.0.0.1',
      QUEUE_LOCK_DURATION_MS: '2000',
      QUEUE_STALLED_INTERVAL_MS: '1000',
      BEAT_SWEEP_INTERVAL_MS: '1000',
    });
    fleet.pg = new Client({ connectionString: fleet.db.url });
    await fleet.pg.connect();
    fleet.admin = new Redis(fleet.redis.url);
    fleet.processes = [];
  });
  afterAll(async () => {
    await fleet.pg?.end();
    fleet.admin?.disconnect();
    await Promise.all((fleet.processes ?? []).filter((p) => p.running).map((p) => p.stop()));
    await Promise.all([fleet.directory?.stop(), fleet.sites?.stop()]);
    await fleet.redis?.destroy();
    await fleet.db?.drop();
  });
  return fleet;
}

const LIMIT = 300;

/** api, worker and beat up, a tenant, and a run of 300 bakeries from the directory under way. */
async function startBakeriesRun(fleet: ReturnType<typeof beatFleet>, tenantName: string) {
  const [api, worker, beat] = await Promise.all([
    HeraldProcess.start('api', fleet.env),
    HeraldProcess.start('worker', fleet.env),
    HeraldProcess.start('beat', fleet.env),
  ]);
  fleet.processes.push(api, worker, beat);
  const tenant = await createTenant(api.publicUrl, TEST_ADMIN_KEY, tenantName);
  const call = <T>(method: string, path: string, body?: unknown) =>
    callApi<T>(api.publicUrl, method, path, tenant.key, body);
  const { accountId, modelId } = await directorySourcing(call, { directory: fleet.directory, pageSize: 10 });
  const wanted = fleet.directory.matching({ category: 'bakery' });
  expect(wanted.length).toBeGreaterThan(LIMIT);
  const job = await call<{ id: string }>('POST', '/v1/sourcing-jobs', {
    name: 'Bakeries',
    source_account_id: accountId,
    criteria: { category: 'bakery' },
    limit: LIMIT,
    scoring_model_id: modelId,
  });
  expect(job.status).toBe(201);
  const run = await call<{ id: string }>('POST', `/v1/sourcing-jobs/${job.body.id}/runs`, {});
  expect(run.status).toBe(202);
  const runId = run.body.id;
  const discovered = async () =>
    (
      await fleet.pg.query<{ discovered: number }>('SELECT discovered FROM sourcing_runs WHERE id = $1', [
        runId,
      ])
    ).rows[0]!.discovered;
  return {
    api,
    worker,
    beat,
    runId,
    queueKey: `${hashTaggedPrefix(fleet.env.QUEUE_PREFIX!)}:sourcing`,
    discovered,
    underWay: (atLeast: number) =>
      eventually(async () => ((await discovered()) >= atLeast ? true : undefined), {
        what: 'run under way',
        timeoutMs: 60_000,
      }),
    /** The run completes with the directory's first 300 bakeries, each once. */
    completesWithEachOnce: async () => {
      const done = await eventually(
        async () => {
          const r = await call<{ status: string; error: string | null; discovered: number }>(
            'GET',
            `/v1/sourcing-runs/${runId}`,
          );
          return r.body.status === 'completed' || r.body.status === 'failed' ? r.body : undefined;
        },
        { what: 'run finished', timeoutMs: 120_000, intervalMs: 500 },
      );
      expect(done).toMatchObject({ status: 'completed', error: null, discovered: LIMIT });
      const { rows } = await fleet.pg.query<{ external_id: string; n: string }>(
        `SELECT external_id, count(*) AS n FROM candidates WHERE run_id = $1 GROUP BY external_id`,
        [runId],
      );
      expect(rows.every((r) => r.n === '1')).toBe(true);
      expect(rows.map((r) => r.external_id).sort()).toEqual(
        wanted
          .slice(0, LIMIT)
          .map((b) => b.id)
          .sort(),
      );
    },
  };
}

/**
 * A run's job that BullMQ fails for good as a crasher (it stalled more than maxStalledCount
 * times) used to leave the run `running` forever. Here the job has already stalled 3 times when
 * its worker is killed (-9): the next worker finds it stalled a 4th time and BullMQ fails it.
 * The beat's `sourcing-runs` duty hands it back and the run completes, every candidate once.
 * Its own database, Redis, prefix and fleet: no other test's failed job is seen here.
 */
describe('a sourcing run whose job becomes a crasher', () => {
  const fleet = beatFleet({ seed: 4, delayMs: 150 });

  it('is handed back by the beat and the run completes, no candidate lost or doubled', async () => {
    const { worker, beat, runId, queueKey, discovered, underWay, completesWithEachOnce } =
      await startBakeriesRun(fleet, 'Crasher');
    const jobKey = `${queueKey}:srun-${runId}`;
    await underWay(50);
    // The job has used up its stalls (maxStalledCount 3) when its worker dies holding it.
    await fleet.admin.hset(jobKey, 'stc', 3);
    worker.signal('SIGKILL');
    await worker.exited;
    expect(await discovered()).toBeLessThan(LIMIT);
    fleet.processes.push(await HeraldProcess.start('worker', fleet.env));

    const handedBack = await beat.waitFor(
      (l) => l.msg === 'sourcing run job failed for good; handed back to the queue' && l.run_id === runId,
      60_000,
    );
    expect(handedBack.failed_reason).toBe('job stalled more than allowable limit');
    await completesWithEachOnce();
    // The one job of the run: stalled past the limit, failed once by BullMQ, then completed.
    const hash = await fleet.admin.hgetall(jobKey);
    expect(Number(hash.stc)).toBeGreaterThan(3);
    expect(await fleet.admin.zscore(`${queueKey}:completed`, `srun-${runId}`)).not.toBeNull();
  });
});

/**
 * Redis loses a running run's job under its live worker (an operator removes it; eviction or a
 * restart without persistence loses it the same way): the worker steps on until its slice ends,
 * then cannot move the vanished job anywhere, and nothing drives the run. The beat's
 * `sourcing-lost-jobs` duty adds the job again under its id once the run has been quiet, and the
 * run completes, no candidate lost or doubled. Its own database, Redis, prefix and fleet.
 */
describe('a sourcing run whose job vanishes from Redis mid-run', () => {
  // Slow pages: the search outlasts one job slice (15 s), so the worker gives the job up mid-run.
  const fleet = beatFleet({ seed: 6, delayMs: 800 });

  it('is added again by the beat and the run completes, no candidate lost or doubled', async () => {
    const { beat, runId, queueKey, discovered, underWay, completesWithEachOnce } = await startBakeriesRun(
      fleet,
      'Lost job',
    );
    const jobId = `srun-${runId}`;
    await underWay(30);
    // The job's every trace in Redis goes, while its worker holds it.
    const gone = await fleet.admin
      .multi()
      .del(`${queueKey}:${jobId}`, `${queueKey}:${jobId}:lock`)
      .lrem(`${queueKey}:active`, 0, jobId)
      .lrem(`${queueKey}:wait`, 0, jobId)
      .lrem(`${queueKey}:paused`, 0, jobId)
      .zrem(`${queueKey}:delayed`, jobId)
      .zrem(`${queueKey}:prioritized`, jobId)
      .exec();
    expect(gone?.every(([error]) => error === null)).toBe(true);
    expect(await fleet.admin.exists(`${queueKey}:${jobId}`)).toBe(0);

    const readded = await beat.waitFor(
      (l) => l.msg === 'sourcing run job lost; added again' && l.run_id === runId,
      90_000,
    );
    expect(readded).toMatchObject({ job_id: jobId, job_state: 'unknown' });
    expect(await discovered()).toBeLessThan(LIMIT);
    await completesWithEachOnce();
    // Added once, under the run's id: the one job of the run completed.
    expect(await fleet.admin.zscore(`${queueKey}:completed`, jobId)).not.toBeNull();
    const metrics = await (await fetch(`${beat.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/^herald_sourcing_run_recoveries_total\{outcome="readded"\} 1$/m);
  });
});
