import { OPEN_CANDIDATE } from '@herald/sourcing';
import { callApi, FakeDirectory, FakeEnrichment, FakeSites } from '@herald/testing';
import { readFile } from 'node:fs/promises';
import { startBenchFleet } from './fleet';
import { rawSourcing } from './sourcing-baseline';

/**
 * Issue 11 item 9: N candidates from the local fake directory through dedupe, assessment of the
 * local fake sites, enrichment (fake provider), scoring and hand-off, with one worker process —
 * candidates/s from the run's start until it is completed — against a raw undici loop making
 * the same HTTP fetches in the same run (bench/sourcing-baseline.ts), at the worker's fetch
 * concurrency (SOURCING_FETCH_CONCURRENCY: requests open at once), half and up to four times it,
 * best kept. The worker's RSS is sampled over the run and reported by
 * quarter of the run's time. Postgres and Redis are local; api and worker are real processes.
 */
interface Options {
  candidates: number;
  concurrency: number;
  pageSize: number;
  /** QUEUE_CONCURRENCY_SOURCING for the worker; its default when not given. */
  jobs: number | undefined;
}

function parse(args: string[]): Options {
  const get = (name: string, fallback: number) => {
    const arg = args.find((a) => a.startsWith(`--${name}=`));
    const value = arg ? Number(arg.split('=')[1]) : fallback;
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
    return value;
  };
  const concurrency = get('concurrency', 128);
  if (concurrency > 1000) throw new Error('--concurrency must be at most 1000 (SOURCING_FETCH_CONCURRENCY)');
  const jobs = args.some((a) => a.startsWith('--jobs=')) ? get('jobs', 1) : undefined;
  return { candidates: get('candidates', 10_000), concurrency, pageSize: get('page-size', 100), jobs };
}

const DIRECTORY_KEY = 'bench-directory-key';
const ENRICHMENT_KEY = 'bench-enrichment-key';
const MAX_REDIRECTS = 5;

interface Sample {
  atMs: number;
  rssMb: number;
  done: number;
}

export async function runSourcingBenchmark(args: string[]): Promise<void> {
  const options = parse(args);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const started = performance.now();
  const fleet = await startBenchFleet();
  const { db } = fleet;
  const sites = await FakeSites.start();
  const directory = await FakeDirectory.start({
    seed: 11,
    count: options.candidates,
    apiKey: DIRECTORY_KEY,
    sitesPort: sites.httpPort,
  });
  const enrichment = await FakeEnrichment.start(ENRICHMENT_KEY);
  try {
    const env = fleet.env({
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      OUTBOUND_HOST_OVERRIDES: '*.sites.test=127.0.0.1',
      SOURCING_FETCH_CONCURRENCY: String(options.concurrency),
      ...(options.jobs === undefined ? {} : { QUEUE_CONCURRENCY_SOURCING: String(options.jobs) }),
      SOURCING_ASSESSMENT_MAX_REDIRECTS: String(MAX_REDIRECTS),
    });
    const [api, worker] = await Promise.all([fleet.start('api', env), fleet.start('worker', env)]);
    const tenant = await fleet.tenant(api);
    const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const answer = await callApi<T>(api.publicUrl, method, path, tenant.key, body);
      if (answer.status >= 300)
        throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      return answer.body;
    };
    const model = await call<{ id: string }>('POST', '/v1/scoring-models', {
      name: 'Bench',
      rules: [
        { name: 'HTTPS', field: 'assessment.https', op: 'equals', value: true, points: 20 },
        { name: 'mobile viewport', field: 'assessment.viewport', op: 'equals', value: true, points: 15 },
        { name: 'contact email', field: 'assessment.email_found', op: 'equals', value: true, points: 10 },
        { name: 'enriched', field: 'enrichment.employees', op: 'exists', points: 5 },
      ],
      tiers: { A: 40, B: 25, C: 10 },
    });
    const directoryAccount = await call<{ id: string }>('POST', '/v1/source-accounts', {
      name: 'Directory',
      kind: 'http-directory',
      config: { base_url: directory.url(), api_key: DIRECTORY_KEY, page_size: options.pageSize },
      quotas: { daily: 1_000_000 },
    });
    // The account schema's fields (libs/sourcing/src/accounts/source-account.ts), as a tenant writes them.
    await call('POST', '/v1/source-accounts', {
      name: 'Enrichment',
      kind: 'http-enrichment',
      config: {
        base_url: enrichment.url,
        api_key: ENRICHMENT_KEY,
        auth_header: 'authorization',
        auth_scheme: 'Bearer',
        lookup: 'domain',
        lookup_param: 'domain',
        mapping: { employees: 'company.employees', industry: 'company.industry' },
      },
      quotas: { daily: 1_000_000 },
    });
    const job = await call<{ id: string }>('POST', '/v1/sourcing-jobs', {
      name: 'Bench',
      source_account_id: directoryAccount.id,
      criteria: {},
      limit: options.candidates,
      scoring_model_id: model.id,
      handoff: { A: { action: 'contact' }, B: { action: 'contact' }, C: { action: 'hold' } },
    });
    log(
      `# sourcing benchmark: ${options.candidates} candidates, 1 worker, ${options.concurrency} requests open at most, ${options.jobs ?? 'default'} sourcing jobs at once, directory pages of ${options.pageSize}`,
    );

    const t0 = performance.now();
    const run = await call<{ id: string }>('POST', `/v1/sourcing-jobs/${job.id}/runs`, {});
    const samples: Sample[] = [];
    let status = 'queued';
    while (status !== 'completed') {
      const [row] = (
        await db.query<{ status: string; reason: string | null; done: string }>(
          `SELECT r.status, r.reason,
                  (SELECT count(*) FROM candidates c WHERE c.run_id = r.id
                     AND c.stage IN ('duplicate', 'scored', 'handed_off', 'rejected')) AS done
             FROM sourcing_runs r WHERE r.id = $1`,
          [run.id],
        )
      ).rows;
      status = row!.status;
      if (['failed', 'cancelled', 'paused'].includes(status))
        throw new Error(`the run is ${status}: ${row!.reason ?? 'no reason given'}`);
      if (!worker.running) throw new Error(`the worker exited: ${worker.stderr.slice(-20).join('\n')}`);
      samples.push({ atMs: performance.now() - t0, rssMb: await rssMb(worker.pid), done: Number(row!.done) });
      if (status !== 'completed') await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const heraldMs = performance.now() - t0;

    // What the run left: every candidate once, none still in flight, a contact per A/B candidate.
    const stages = Object.fromEntries(
      (
        await db.query<{ stage: string; n: string }>(
          `SELECT stage, count(*) AS n FROM candidates WHERE run_id = $1 GROUP BY stage`,
          [run.id],
        )
      ).rows.map((r) => [r.stage, Number(r.n)]),
    ) as Record<string, number>;
    const tiers = Object.fromEntries(
      (
        await db.query<{ tier: string | null; n: string }>(
          `SELECT tier, count(*) AS n FROM candidates WHERE run_id = $1 GROUP BY tier ORDER BY tier`,
          [run.id],
        )
      ).rows.map((r) => [r.tier ?? 'none', Number(r.n)]),
    ) as Record<string, number>;
    const enrichmentStatus = Object.fromEntries(
      (
        await db.query<{ status: string | null; n: string }>(
          `SELECT concat_ws(': ', facts->>'enrichment_status', split_part(facts->>'enrichment_error', ':', 1)) AS status,
                  count(*) AS n
             FROM candidates WHERE run_id = $1 GROUP BY 1`,
          [run.id],
        )
      ).rows.map((r) => [r.status ?? 'none', Number(r.n)]),
    ) as Record<string, number>;
    const total = Object.values(stages).reduce((a, b) => a + b, 0);
    if (total !== options.candidates)
      throw new Error(`the run holds ${total} candidates, ${options.candidates} expected`);
    const inFlight = Number(
      (
        await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM candidates c WHERE c.run_id = $1 AND ${OPEN_CANDIDATE}`,
          [run.id],
        )
      ).rows[0]!.n,
    );
    if (inFlight > 0)
      throw new Error(`${inFlight} candidates still open (in flight or hand-off to come) after completion`);
    const contacts = Number(
      (await db.query<{ n: string }>(`SELECT count(*) AS n FROM contacts WHERE tenant_id = $1`, [tenant.id]))
        .rows[0]!.n,
    );
    if (contacts !== (stages.handed_off ?? 0))
      throw new Error(`${contacts} contacts for ${stages.handed_off ?? 0} handed-off candidates`);
    const siteRequests = sites.requests.length;
    const lookups = enrichment.lookups.length;

    // The raw floor, the Herald processes idle: same fetches, at the same concurrency, half and more.
    const concurrencies = [
      ...new Set([
        options.concurrency,
        Math.max(1, Math.floor(options.concurrency / 2)),
        options.concurrency * 2,
        options.concurrency * 4,
      ]),
    ];
    const baseline = await rawSourcing(
      {
        directoryUrl: directory.url(),
        directoryKey: DIRECTORY_KEY,
        pageSize: options.pageSize,
        limit: options.candidates,
        maxRedirects: MAX_REDIRECTS,
        ...(lookups > 0 ? { enrichment: { url: enrichment.url, apiKey: ENRICHMENT_KEY } } : {}),
      },
      concurrencies,
    );

    const heraldRate = options.candidates / (heraldMs / 1000);
    const ratio = heraldRate / baseline.best.perSecond;
    const quarters = [0, 1, 2, 3].map((q) => {
      const inQuarter = samples.filter(
        (s) => s.atMs >= (q * heraldMs) / 4 && s.atMs < ((q + 1) * heraldMs) / 4 + (q === 3 ? 1 : 0),
      );
      return inQuarter.length ? Math.max(...inQuarter.map((s) => s.rssMb)) : 0;
    });
    const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    log('');
    log('| measure | result |');
    log('| --- | --- |');
    log(
      `| Herald: directory → dedupe → assessment → enrichment → scoring → hand-off, 1 worker, ${options.concurrency} requests open at most | ${fmt(heraldRate)} candidates/s (${(heraldMs / 1000).toFixed(1)} s) |`,
    );
    for (const t of baseline.tried)
      log(`| raw undici, same fetches, ${t.setting} | ${fmt(t.perSecond)} candidates/s |`);
    log(`| Herald / best raw (${baseline.best.setting}) | ${ratio.toFixed(2)} |`);
    log(
      `| worker RSS, max per quarter of the run (first, second, third, last) | ${quarters.map((q) => `${q.toFixed(0)} MB`).join(', ')} |`,
    );
    log(`| stages | ${JSON.stringify(stages)} |`);
    log(`| tiers | ${JSON.stringify(tiers)} |`);
    log(`| enrichment outcomes | ${JSON.stringify(enrichmentStatus)} |`);
    log(
      `| requests to the fake sites by Herald / enrichment lookups by Herald / fetches by one raw pass | ${fmt(siteRequests)} / ${fmt(lookups)} / ${fmt(baseline.fetches)} |`,
    );
    log(`| load average at the end (1, 5, 15 min) | ${load} |`);
    log('');
    log(
      JSON.stringify({
        candidates: options.candidates,
        concurrency: options.concurrency,
        herald_candidates_per_s: Number(heraldRate.toFixed(2)),
        herald_s: Number((heraldMs / 1000).toFixed(1)),
        raw: baseline.tried.map((t) => ({
          setting: t.setting,
          candidates_per_s: Number(t.perSecond.toFixed(2)),
        })),
        raw_best_candidates_per_s: Number(baseline.best.perSecond.toFixed(2)),
        ratio: Number(ratio.toFixed(3)),
        rss_mb_by_quarter: quarters.map((q) => Math.round(q)),
        samples: samples.length,
        stages,
        tiers,
        enrichment: enrichmentStatus,
        contacts,
        site_requests: siteRequests,
        enrichment_lookups: lookups,
        load,
        total_s: Math.round((performance.now() - started) / 1000),
      }),
    );
  } finally {
    await fleet.stop();
    await Promise.all([sites.stop(), directory.stop(), enrichment.stop()]);
  }
}

/** The process's resident set, from /proc (Linux, where the benchmarks run). */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : 0;
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1);
}
