import {
  callApi,
  createTestDatabase,
  eventually,
  HeraldProcess,
  RedisServer,
  TEST_ADMIN_KEY,
  testEnvironment,
  testRedisPrefix,
  WebhookSink,
  type TestDatabase,
  createTenant,
} from '@herald/testing';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import { Client } from 'pg';
import { grafanaQuery } from '../deploy/grafana-query';
import { ALERTS_FILE, dashboardFiles, readDashboard, REPO_ROOT, ruleGroups } from '../deploy/metric-names';
import { PrometheusServer, type Series } from '../deploy/prometheus-server';

jest.setTimeout(120_000);

const SECRET = 'dashboards-e2e-sink-secret-0123456789abcd';
const CONTACTS = 8;
const NAMESPACE = 'e2e';
const RELEASE = 'opskit';
/** Every process is scraped a second time as this release: two fleets in one Prometheus. */
const MIRROR = 'mirror';
const WORKER_NAME = 'herald-worker-opskit';
/** Grafana's $__rate_interval for a 1 s scrape: four scrapes. */
const RATE_INTERVAL = '4s';
const VARIABLES = { namespace: NAMESPACE, release: RELEASE, channel: '.*', account: '.*', queue: '.*' };

/**
 * Alerts whose state the scenario produces: each expression must return series for the release
 * while it happens. Every other alert must stay quiet for the whole scenario (a healthy fleet
 * in trouble only where we made it), in both releases.
 */
const FIRING: Record<string, string> = {
  HeraldCircuitOpenTooLong: 'the sink failed transiently until the breaker opened',
  HeraldDeliveryFailureRate: 'the sink refused a whole campaign permanently',
  HeraldQuotaNearlyExhausted: 'the capped account used its hourly quota',
  HeraldQuotaFallback: "the worker's Redis client was cut: quotas decided in Postgres",
  HeraldRedisDown: "the worker's readiness saw its Redis client down",
  HeraldNoWorkersAlive: 'heartbeats go through the Redis client that was cut: no worker looked alive',
  HeraldDatabasePoolSaturated: 'requests queued for the api pool while a table was locked',
  HeraldDatabaseDown: "the api's readiness check could not get a pooled connection either",
  HeraldApiHighLatency: 'those requests waited seconds for the lock',
};

/**
 * Dashboard queries that may return nothing or only zeros here, and why: the state they show
 * is not one this scenario produces (each other query must return a non-zero value somewhere).
 */
const ZERO_ALLOWED: Record<string, string> = {
  'beat-outbox.json › Outbox pending': 'the relay dispatches accepted work within milliseconds',
  'beat-outbox.json › Outbox lag': 'the relay dispatches accepted work within milliseconds',
  'beat-outbox.json › Outbox pending rows': 'the relay dispatches accepted work within milliseconds',
  'beat-outbox.json › Outbox lag (oldest undispatched row)':
    'the relay dispatches accepted work within milliseconds',
  'campaigns.json › Outbox pending rows': 'the relay dispatches accepted work within milliseconds',
  'campaigns.json › Outbox lag (oldest undispatched row)':
    'the relay dispatches accepted work within milliseconds',
  'beat-outbox.json › Leadership changes':
    "the beat's only change, its first acquisition, precedes the first scrape",
  'campaigns.json › Scheduled runs started in range':
    'no campaign schedule fires (metrics-exported covers them)',
  'campaigns.json › Slots skipped late in range': 'no campaign schedule fires',
  'campaigns.json › Schedule fires by kind and outcome': 'no campaign schedule fires',
  'campaigns.json › Active enrollments': 'no sequence runs here',
  'campaigns.json › Enrollments by state': 'no sequence runs here',
  'campaigns.json › Enrollment ticker lag': 'no sequence runs here',
  'campaigns.json › Enrollment ticker lag (oldest due step)': 'no sequence runs here',
  'campaigns.json › Beat duty errors in range': 'no beat duty fails',
  'campaigns.json › Beat duty errors by duty': 'no beat duty fails',
  'campaigns.json › Items acted on per duty':
    'nothing is stalled, unsettled or undispatched for a duty to act on',
  'circuits.json › Half-open breakers': 'the breaker is half-open for one probe, shorter than a scrape',
  'deliveries.json › Quota remaining': "the capped account's first batch took its whole quota",
  'lead-pipeline.json › Active sourcing runs':
    'no sourcing run in this scenario (the qualify int-specs cover the counters)',
  'lead-pipeline.json › Sourcing run job recoveries by outcome':
    'no sourcing run in this scenario (sourcing-crash e2e and the sourcing-runs int-spec make the beat recover runs)',
  'lead-pipeline.json › Oldest progress age':
    'no sourcing run in this scenario (the qualify int-specs cover the counters)',
  'lead-pipeline.json › Handed off in range':
    'no sourcing run in this scenario (the qualify int-specs cover the counters)',
  'lead-pipeline.json › Assessment cache hit ratio':
    'no sourcing run in this scenario (the qualify int-specs cover the counters)',
  'lead-pipeline.json › Candidates by stage':
    'no sourcing run in this scenario (the qualify int-specs cover the counters)',
  'lead-pipeline.json › Scored candidates by tier':
    'no sourcing run in this scenario (the qualify int-specs cover the counters)',
  'lead-pipeline.json › Sourcing requests by kind and outcome':
    'no sourcing run in this scenario (the qualify int-specs cover the counters)',
  'lead-pipeline.json › Assessment duration p50 / p95 / p99':
    'no sourcing run in this scenario (the qualify int-specs cover the counters)',
  'lead-pipeline.json › Cache lookups by cache and result':
    'no sourcing run in this scenario (the qualify int-specs cover the counters)',
  'lead-pipeline.json › Enrichment breakers (0 closed, 1 half-open, 2 open)':
    'no sourcing run in this scenario (the qualify int-specs cover the counters)',
  'email-performance.json › Delivery rate': 'no provider reports engagement events here',
  'email-performance.json › Bounce rate': 'no provider reports engagement events here',
  'email-performance.json › Complaint rate': 'no provider reports engagement events here',
  'email-performance.json › Open rate': 'no provider reports engagement events here',
  'email-performance.json › Click rate': 'no provider reports engagement events here',
  'email-performance.json › Engagement events by kind': 'no provider reports engagement events here',
  'email-performance.json › Bounce rate per account (1 h)': 'no provider reports engagement events here',
  'email-performance.json › Complaint rate per account (1 d)': 'no provider reports engagement events here',
  'email-performance.json › Delivery rate per account (4 h)': 'no provider reports engagement events here',
  'email-performance.json › Events by source': 'no provider reports engagement events here',
  'email-performance.json › Accounts by bounce rate in range': 'no provider reports engagement events here',
  'funnel.json › Funnel: sent → delivered → opened → clicked → replied → converted':
    'sends only: no engagement event here',
  'funnel.json › Reply rate': 'no engagement event here',
  'funnel.json › Conversion rate': 'no engagement event here',
  'funnel.json › Unsubscribe rate': 'no engagement event here',
  'funnel.json › Conversions in the last 6 h': 'no engagement event here',
  'funnel.json › Funnel stages per hour': 'sends only: no engagement event here',
  'funnel.json › Conversions and replies per second': 'no engagement event here',
  'overview.json › Redis memory': 'the test Redis has no maxmemory',
  'overview.json › Dependency errors':
    'a connection Redis closes is not an ioredis error event (see the report)',
  'overview.json › Error ratio (5xx, 4xx)': 'no /v1 request is answered 4xx or 5xx',
  'overview.json › 5xx ratio': 'no /v1 request is answered 5xx',
  'queues.json › Backlog (waiting + prioritized) by queue': 'jobs are picked up within milliseconds',
  'queues.json › Failed jobs kept for replay':
    'no job fails: a failed delivery is an outcome, not a failed job',
  'queues.json › Failed and retried by job':
    'no job fails: a failed delivery is an outcome, not a failed job',
  'queues.json › Failure ratio by queue': 'no job fails: a failed delivery is an outcome, not a failed job',
  'queues.json › Stalled jobs in range': 'no worker dies holding a job',
  'queues.json › Stalled jobs': 'no worker dies holding a job',
  'queues.json › Jobs being processed': 'a job takes milliseconds, shorter than a scrape',
};

/** docs/runbook.md, "Metrics cardinality": series per live sender account on a worker. */
const PER_ACCOUNT_SERIES = 8;
/** docs/runbook.md, "Metrics cardinality": the account-independent series of one process. */
const FIXED_SERIES_BOUND = 3000;

/** Consecutive one-second steps a quiet alert's expression may not hold for. */
const QUIET_FOR_STEPS = 3;

/** The longest run of consecutive one-second steps in a range query's series. */
function longestRun(series: Series): number {
  let longest = 0;
  let run = 0;
  let previous = Number.NaN;
  for (const [at] of series.values) {
    run = at - previous === 1 ? run + 1 : 1;
    longest = Math.max(longest, run);
    previous = at;
  }
  return longest;
}

interface Sample {
  expr: string;
  series: Series[];
}

describe('dashboards and alerts tell the truth about a fleet in trouble', () => {
  let redis: RedisServer;
  let db: TestDatabase;
  let sink: WebhookSink;
  let prometheus: PrometheusServer;
  let admin: Redis;
  let api: HeraldProcess;
  let worker: HeraldProcess;
  let beat: HeraldProcess;
  const fleet: HeraldProcess[] = [];
  let probes: NodeJS.Timeout | undefined;
  let started = 0;
  let finished = 0;
  const timings: Record<string, number> = {};
  let tenantKey = '';

  beforeAll(async () => {
    [redis, db, sink] = await Promise.all([
      RedisServer.start(),
      createTestDatabase(),
      WebhookSink.start(SECRET),
    ]);
    const env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: testRedisPrefix(),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      BEAT_TICK_INTERVAL_MS: '200',
      HERALD_BUILD_COMMIT: 'e2e0opskit',
    });
    const starts = await Promise.allSettled([
      // A small pool, so a lock held elsewhere leaves callers waiting for a connection.
      HeraldProcess.start('api', { ...env, DATABASE_POOL_MAX: '2' }, 60_000),
      // Its own client name: the scenario cuts this process's general Redis client only.
      HeraldProcess.start('worker', { ...env, SERVICE_NAME: WORKER_NAME }, 60_000),
      HeraldProcess.start('beat', env, 60_000),
    ]);
    // Whatever started is stopped in afterAll, even when another role failed to.
    for (const s of starts) if (s.status === 'fulfilled') fleet.push(s.value);
    const failed = starts.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    [api, worker, beat] = fleet as [HeraldProcess, HeraldProcess, HeraldProcess];
    admin = new Redis(redis.url);
    const targets = [RELEASE, MIRROR].flatMap((release) =>
      fleet.map((p) => ({
        job: `herald-${p.role}`,
        address: new URL(p.opsUrl).host,
        labels: { namespace: NAMESPACE, release },
      })),
    );
    prometheus = await PrometheusServer.start({ targets, ruleFiles: [join(REPO_ROOT, ALERTS_FILE)] });
    // The kubelet's readiness probe: fills herald_component_up as in a cluster.
    probes = setInterval(() => {
      for (const p of fleet) void fetch(`${p.opsUrl}/ready`).catch(() => undefined);
    }, 500);
    // Ranges start once Prometheus has scraped every target: before that, "no api is up" is true.
    await eventually(async () => (await prometheus.query('count(up == 1) == 6')).length === 1 || undefined, {
      timeoutMs: 20_000,
      intervalMs: 200,
      what: 'Prometheus scrapes all six targets',
    });
    started = Date.now();
  });

  afterAll(async () => {
    if (probes) clearInterval(probes);
    await Promise.all(fleet.map((p) => p.stop()));
    await Promise.all([prometheus?.stop(), sink?.stop(), admin?.quit()]);
    await Promise.all([db?.drop(), redis?.destroy()]);
  });

  const call = <T>(method: string, path: string, key: string, body?: unknown) =>
    callApi<T>(api.publicUrl, method, path, key, body);

  /** Waits until Prometheus itself returns series for `expr` (the state was scraped). */
  const seen = async (expr: string, what: string, timeoutMs = 30_000) => {
    try {
      await eventually(async () => (await prometheus.query(expr)).length > 0 || undefined, {
        timeoutMs,
        intervalMs: 250,
        what: `Prometheus sees ${what} (${expr})`,
      });
    } catch (error) {
      // What Prometheus has instead: the selector without its comparison.
      const selector = /^herald_\w+\{[^}]*\}/.exec(expr)?.[0];
      const now = selector ? await prometheus.query(selector) : [];
      throw new Error(`${(error as Error).message}; now: ${JSON.stringify(now)}`, { cause: error });
    }
  };

  const step = async (name: string, work: () => Promise<void>) => {
    const at = Date.now();
    await work();
    timings[name] = Date.now() - at;
  };

  it('goes through success, transient failure and retry, breaker open, permanent failure, quota deferral, quota fallback and a saturated pool', async () => {
    const tenant = await createTenant(api.publicUrl, TEST_ADMIN_KEY, 'Ops kit', 'UTC');
    const key = tenant.key;
    tenantKey = key;
    const account = async (name: string, quotas?: Record<string, number>) => {
      const res = await call<{ id: string }>('POST', '/v1/sender-accounts', key, {
        name,
        channel: 'webhook',
        config: { url: sink.url, secret: SECRET },
        time_zone: 'UTC',
        ...(quotas ? { quotas } : {}),
      });
      expect(res.status).toBe(201);
      return res.body.id;
    };
    const steady = await account('Steady');
    const capped = await account('Capped', { hourly: 3 });
    const imported = await call<{ created: number }>(
      'POST',
      '/v1/contacts/import',
      key,
      Array.from({ length: CONTACTS }, (_, i) => ({ email: `reader${i}@example.test`, first_name: `R${i}` })),
    );
    expect(imported.body.created).toBe(CONTACTS);
    let campaigns = 0;
    /** A broadcast to every contact, started now; resolves with its run id. */
    const broadcast = async (senderAccountId: string) => {
      campaigns += 1;
      const campaign = await call<{ id: string }>('POST', '/v1/campaigns', key, {
        name: `Broadcast ${campaigns}`,
        kind: 'broadcast',
        sender_account_id: senderAccountId,
        quota_policy: 'defer',
        steps: [{ subject: 'News {{ first_name }}', body: 'Hello {{ first_name }}' }],
      });
      expect(campaign.status).toBe(201);
      const run = await call<{ id: string }>('POST', `/v1/campaigns/${campaign.body.id}/runs`, key, {});
      expect(run.status).toBe(202);
      return run.body.id;
    };
    const scope = `namespace="${NAMESPACE}", release="${RELEASE}"`;

    await step('success', async () => {
      await broadcast(steady);
      await sink.waitForDeliveries(CONTACTS);
      await seen(`herald_deliveries_total{${scope}, outcome="sent"} >= ${CONTACTS}`, 'the sends');
    });

    await step('transient failure, retry, breaker open, recovery', async () => {
      sink.behaviour = { mode: 'fail', status: 503 };
      await broadcast(steady);
      await seen(`herald_deliveries_total{${scope}, outcome="retried", reason="transient_error"}`, 'retries');
      await seen(`herald_circuit_state{${scope}, account="${steady}"} == 2`, 'the breaker open');
      await seen(`herald_deliveries_total{${scope}, outcome="deferred", reason="circuit_open"}`, 'deferrals');
      sink.behaviour = { mode: 'accept' };
      // The first probe that gets through closes the breaker; the retried deliveries follow on
      // their own backoff (seconds, jittered) while the next steps run.
      await seen(`herald_circuit_state{${scope}, account="${steady}"} == 0`, 'the breaker closed again');
      await seen(`herald_circuit_transitions_total{${scope}, to="closed"} > 0`, 'the breaker closing');
    });

    await step('permanent failure', async () => {
      sink.behaviour = { mode: 'fail', status: 422 };
      await broadcast(steady);
      await seen(`herald_deliveries_total{${scope}, outcome="failed"} >= ${CONTACTS}`, 'permanent failures');
      sink.behaviour = { mode: 'accept' };
    });

    await step('quota deferral', async () => {
      await broadcast(capped);
      await seen(
        `herald_deliveries_total{${scope}, outcome="deferred", reason="quota_exhausted"}`,
        'quota deferrals',
      );
      const quotaLines = (await (await fetch(`${worker.opsUrl}/metrics`)).text())
        .split('\n')
        .filter((l) => l.startsWith('herald_quota_'));
      process.stdout.write(`worker quota series: ${quotaLines.join(' | ')}\n`);
      await seen(
        `herald_quota_remaining{${scope}, account=~".+:${capped}", window="hour"} == 0`,
        'the quota used up',
      );
    });

    await step('quota fallback', async () => {
      // Cuts the worker's general Redis client and keeps it out: Redis is full (maxclients) for
      // any new connection, while the connections already open (BullMQ's) keep working. Quota
      // decisions move to Postgres while jobs still arrive.
      const workerClient = async () =>
        ((await admin.client('LIST')) as string)
          .split('\n')
          .map((line) => ({ line, id: / id=(\d+) /.exec(` ${line}`)?.[1] }))
          .find((c) => c.id && c.line.includes(` name=${WORKER_NAME} `))?.id;
      const connected = ((await admin.client('LIST')) as string).trim().split('\n').length;
      await admin.config('SET', 'maxclients', String(connected - 1));
      try {
        const id = await workerClient();
        expect(id).toBeDefined();
        await admin.client('KILL', 'ID', id!);
        await seen(
          `herald_component_up{${scope}, job="herald-worker", component="redis"} == 0`,
          'redis down',
        );
        const before = sink.delivered.size;
        await broadcast(steady);
        await sink.waitForDeliveries(before + CONTACTS);
        await seen(`herald_quota_backend{${scope}, backend="postgres"} == 1`, 'the Postgres fallback');
        // The api reads heartbeats from Redis: the cut worker's go stale (3 s) and none is alive.
        await seen(`max(herald_workers_alive{${scope}}) == 0`, 'no worker alive');
        await seen(
          `herald_quota_decisions_total{${scope}, backend="postgres", decision="admitted"} > 0`,
          'PG decisions',
        );
      } finally {
        await admin.config('SET', 'maxclients', '10000');
      }
      await seen(`herald_component_up{${scope}, job="herald-worker", component="redis"} == 1`, 'redis back');
    });

    await step('saturated pool', async () => {
      // The route's latency series exist before the slow requests (as they do in a fleet that
      // serves traffic): a histogram series born with its first observations hides them from rate().
      expect((await call('GET', '/v1/contacts?limit=1', key)).status).toBe(200);
      await seen(
        `herald_http_request_duration_seconds_count{${scope}, route="/v1/contacts", method="GET"}`,
        'the contacts route',
      );
      const locker = new Client({ connectionString: db.url });
      await locker.connect();
      const requests: Promise<number>[] = [];
      try {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE');
        for (let i = 0; i < 12; i++)
          requests.push(call('GET', '/v1/contacts?limit=1', key).then((res) => res.status));
        await seen(
          `herald_db_pool_connections{${scope}, job="herald-api", state="waiting"} > 0`,
          'callers waiting for the pool',
        );
        // A few more scrapes of the saturated pool.
        await seen(
          `count_over_time((herald_db_pool_connections{${scope}, job="herald-api", state="waiting"} > 0)[10s:1s]) >= 3`,
          'three scrapes with waiters',
        );
      } finally {
        await locker.query('COMMIT').catch(() => undefined);
        await locker.end();
      }
      expect(await Promise.all(requests)).toEqual(Array(12).fill(200));
      await seen(
        `histogram_quantile(0.95, sum by (le) (rate(herald_http_request_duration_seconds_bucket{${scope}, route=~"/v1/.*"}[5m]))) > 1`,
        'the slow requests in the p95 latency',
      );
    });

    // Everything the last step did has been scraped and the rules evaluated on it.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    finished = Date.now();
    const errors = await prometheus.query(
      `sum by (method, route) (herald_http_requests_total{${scope}, status="5xx"})`,
    );
    process.stdout.write(`5xx answers: ${JSON.stringify(errors)}\n`);
    process.stdout.write(
      `dashboards-and-alerts scenario: ${finished - started} ms (${JSON.stringify(timings)})\n`,
    );
  });

  const range = () => `${Math.ceil(((finished || Date.now()) - started) / 1000) + 5}s`;
  const evaluate = async (expr: string): Promise<Sample> => ({
    expr,
    series: await prometheus.queryRange(expr, started, finished || Date.now()),
  });
  const nonZero = (s: Series) => s.values.some(([, v]) => Number(v) !== 0 && !Number.isNaN(Number(v)));

  const panels = dashboardFiles().flatMap((file) =>
    readDashboard(file).queries.map((q) => [`${file.split('/').pop()} › ${q.panel}`, q.expr] as const),
  );

  it.each(panels)('%s returns data the scenario produced', async (name, raw) => {
    const expr = grafanaQuery(raw, VARIABLES, { rateInterval: RATE_INTERVAL, range: range() });
    const sample = await evaluate(expr);
    // Still a valid query that Prometheus ran (evaluate throws otherwise), for a stated reason.
    if (name in ZERO_ALLOWED) return expect(ZERO_ALLOWED[name]).toMatch(/\w/);
    expect(sample.series.length).toBeGreaterThan(0);
    if (raw.startsWith('label_values(')) {
      const label = /,\s*(\w+)\)$/.exec(raw)?.[1] ?? '';
      expect(sample.series.some((s) => (s.metric[label] ?? '') !== '')).toBe(true);
    } else {
      expect({ expr, nonZero: sample.series.some(nonZero) }).toEqual({ expr, nonZero: true });
    }
  });

  const { alerts, records } = ruleGroups();

  it.each(alerts.map((a) => [a.alert, a.expr] as const))(
    '%s: its expression returns series exactly when the scenario produced its state',
    async (name, expr) => {
      const sample = await evaluate(expr);
      const releases = new Set(sample.series.map((s) => s.metric.release));
      if (name in FIRING) {
        expect({ expr, releases: [...releases].sort() }).toEqual({ expr, releases: [MIRROR, RELEASE] });
      } else {
        // The test's stand-in for `for:`: a blip of one or two scrapes on a loaded machine (a
        // scrape past its 1 s timeout) is not an alert; three seconds in a row would be.
        const held = sample.series.filter((s) => longestRun(s) >= QUIET_FOR_STEPS).map((s) => s.metric);
        expect({ expr, held }).toEqual({ expr, held: [] });
      }
    },
  );

  it.each(records.map((r) => [r.record, r.expr] as const))(
    'recording rule %s returns data',
    async (_name, expr) => {
      expect((await evaluate(expr)).series.length).toBeGreaterThan(0);
    },
  );

  it('loaded every rule without an evaluation error', async () => {
    const rules = await prometheus.rules();
    expect(rules.length).toBe(alerts.length + records.length);
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
  });

  it('two releases with one beat leader each: HeraldMultipleBeatLeaders stays quiet where one fleet-wide sum would not', async () => {
    const perRelease = await evaluate(alerts.find((a) => a.alert === 'HeraldMultipleBeatLeaders')!.expr);
    expect(perRelease.series).toEqual([]);
    const fleetWide = await evaluate('sum(herald_beat_leader) > 1');
    expect(fleetWide.series.length).toBe(1);
  });

  it('marks the deploy: herald_build_info carries the version and commit of every process', async () => {
    const info = await prometheus.query(`herald_build_info{release="${RELEASE}"}`);
    expect(info.map((s) => s.metric.job).sort()).toEqual(['herald-api', 'herald-beat', 'herald-worker']);
    for (const s of info) {
      expect(s.metric.commit).toBe('e2e0opskit');
      expect(s.metric.version).toMatch(/^\d+\.\d+\.\d+/);
    }
    expect(beat.running && worker.running).toBe(true);
  });

  it('drops the series of deleted and disabled sender accounts: the count per process stays bounded', async () => {
    const series = async (p: HeraldProcess) =>
      (await (await fetch(`${p.opsUrl}/metrics`)).text())
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'));
    const baseline = (await series(worker)).length;
    const other = await createTenant(api.publicUrl, TEST_ADMIN_KEY, 'Leaving', 'UTC');
    const keys = [tenantKey, tenantKey, tenantKey, other.key, other.key, other.key];
    await call('POST', '/v1/contacts/import', other.key, [{ email: 'one@example.test' }]);
    const before = sink.delivered.size;
    const ids: string[] = [];
    for (const [i, key] of keys.entries()) {
      const account = await call<{ id: string }>('POST', '/v1/sender-accounts', key, {
        name: `Short-lived ${i}`,
        channel: 'webhook',
        config: { url: sink.url, secret: SECRET },
        quotas: { hourly: 1000, daily: 5000, weekly: 20000 },
      });
      ids.push(account.body.id);
      const campaign = await call<{ id: string }>('POST', '/v1/campaigns', key, {
        name: `Short-lived ${i}`,
        kind: 'broadcast',
        sender_account_id: account.body.id,
        steps: [{ subject: 'Hi', body: 'Hello' }],
      });
      expect((await call('POST', `/v1/campaigns/${campaign.body.id}/runs`, key, {})).status).toBe(202);
    }
    await sink.waitForDeliveries(before + 3 * CONTACTS + 3);
    const mentions = (lines: string[]) => lines.filter((l) => ids.some((id) => l.includes(id)));
    const exercised = await eventually(
      async () => {
        const lines = mentions(await series(worker));
        // Per account: quota limit and remaining for three windows, its breaker state, its sends.
        return lines.length === ids.length * PER_ACCOUNT_SERIES ? lines : undefined;
      },
      { timeoutMs: 10_000, what: 'every short-lived account has its series' },
    );
    expect(exercised).toHaveLength(ids.length * PER_ACCOUNT_SERIES);

    // Three disabled, three deleted with their tenant.
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      await pg.query(`UPDATE sender_accounts SET status = 'disabled' WHERE id = ANY($1::uuid[])`, [
        ids.slice(0, 3),
      ]);
      await pg.query(`DELETE FROM tenants WHERE id = (SELECT tenant_id FROM sender_accounts WHERE id = $1)`, [
        ids[3],
      ]);
    } finally {
      await pg.end();
    }
    // Gone by the next scrape (one live-accounts check serves the scrapes of one second).
    const after = await eventually(
      async () => {
        const lines = await series(worker);
        return mentions(lines).length === 0 ? lines : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 300, what: 'the series of the deleted and disabled accounts are gone' },
    );
    expect(mentions(after)).toEqual([]);
    expect(after.length).toBeLessThanOrEqual(baseline);
    const counts: Record<string, number> = Object.fromEntries(
      await Promise.all(fleet.map(async (p) => [p.role, (await series(p)).length] as const)),
    );
    process.stdout.write(`series per process after the scenario: ${JSON.stringify(counts)}\n`);
    for (const p of fleet) expect(counts[p.role]).toBeLessThanOrEqual(FIXED_SERIES_BOUND);
  });
});
