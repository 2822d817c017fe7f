import { hashTaggedPrefix, JOBS } from '@herald/queues';
import {
  createTestDatabase,
  HeraldProcess,
  prepareTemplate,
  seedBroadcast,
  startInfrastructure,
  testEnvironment,
  WebhookSink,
} from '@herald/testing';
import { Queue } from 'bullmq';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from 'pg';

/**
 * Deliveries end to end, against the raw BullMQ ceiling of the same machine, in one run:
 *  1. baseline: N no-op jobs through a bare BullMQ worker process (same Redis, same concurrency);
 *  2. Herald: a broadcast run of N contacts through the webhook channel to a local sink (quotas
 *     large enough): fan-out, ledger, quota, breaker, signed HTTP call, `sent` + interaction,
 *     quota commit — with one worker process, then with two.
 * Reports deliveries/s, the ratio to the baseline, p50/p99 from ledger row to `sent`, the
 * fan-out rate and the workers' peak RSS.
 */
const SECRET = 'bench-sink-secret-0123456789abcdef0123456';

function option(args: string[], name: string, fallback: number): number {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.split('=')[1]) : fallback;
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Math.round(Number(match[1]) / 1024) : NaN;
}

async function baseline(redisUrl: string, n: number, concurrency: number): Promise<number> {
  const prefix = hashTaggedPrefix(`bench-noop-${Date.now()}`);
  const child = spawn(
    process.execPath,
    [join(__dirname, 'noop-worker.js'), redisUrl, prefix, 'noop', String(n), String(concurrency)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout });
  const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
  await next(); // ready
  const queue = new Queue('noop', { connection: { url: redisUrl }, prefix });
  for (let i = 0; i < n; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ name: 'noop', data: { i: i + k } })),
    );
  }
  const { elapsed_ms } = JSON.parse(await next()) as { elapsed_ms: number };
  await queue.obliterate({ force: true });
  await queue.close();
  return (n / elapsed_ms) * 1000;
}

interface HeraldResult {
  workers: number;
  deliveriesPerSecond: number;
  fanoutRowsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMb: number[];
}

async function herald(
  postgresUrl: string,
  redisUrl: string,
  n: number,
  workerCount: number,
  concurrency: number,
): Promise<HeraldResult> {
  const db = await createTestDatabase(postgresUrl);
  const sink = await WebhookSink.start(SECRET);
  const prefix = `bench${Date.now()}`;
  const env = testEnvironment({
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
    QUEUE_CONCURRENCY_DELIVERIES: String(concurrency),
    DATABASE_POOL_MAX: '20',
    LOG_LEVEL: 'info',
  });
  const seeded = await seedBroadcast({
    databaseUrl: db.url,
    env,
    contacts: n,
    webhook: { url: sink.url, secret: SECRET },
  });
  const workers = await Promise.all(
    Array.from({ length: workerCount }, () => HeraldProcess.start('worker', env)),
  );
  const runs = new Queue('runs', { connection: { url: redisUrl }, prefix: hashTaggedPrefix(prefix) });
  const started = performance.now();
  await runs.add(
    'runs.fanout',
    { payload: { tenant_id: seeded.tenantId, run_id: seeded.runId }, trace: {} },
    { ...JOBS['runs.fanout'].options, jobId: seeded.runId },
  );
  await sink.waitForDeliveries(n);
  const client = new Client({ connectionString: db.url });
  await client.connect();
  let stats: { sent: string; p50: number; p99: number; fanout_s: number } | undefined;
  for (;;) {
    const { rows } = await client.query<{ sent: string; p50: number; p99: number; fanout_s: number }>(
      `SELECT count(*) FILTER (WHERE status = 'sent') AS sent,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)) * 1000 AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)) * 1000 AS p99,
              extract(epoch FROM max(created_at) - min(created_at)) AS fanout_s
         FROM deliveries WHERE run_id = $1`,
      [seeded.runId],
    );
    stats = rows[0];
    if (stats && Number(stats.sent) === n) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const elapsed = performance.now() - started;
  const rss = workers.map((w) => peakRssMb(w.pid));
  await client.end();
  await Promise.all(workers.map((w) => w.stop()));
  await runs.close();
  await sink.stop();
  await db.drop();
  return {
    workers: workerCount,
    deliveriesPerSecond: (n / elapsed) * 1000,
    fanoutRowsPerSecond: n / Math.max(stats.fanout_s, 0.001),
    p50Ms: stats.p50,
    p99Ms: stats.p99,
    peakRssMb: rss,
  };
}

export async function runDeliveriesBenchmark(args: string[]): Promise<void> {
  const n = option(args, 'deliveries', 50_000);
  const concurrency = option(args, 'concurrency', 200);
  const infra = await startInfrastructure();
  try {
    await prepareTemplate(infra.postgresUrl);
    const noop = await baseline(infra.redisUrl, n, concurrency);
    process.stdout.write(
      `raw BullMQ no-op jobs: ${Math.round(noop)} jobs/s (${n} jobs, concurrency ${concurrency}, 1 worker process)\n`,
    );
    const results: HeraldResult[] = [];
    for (const workers of [1, 2]) {
      const r = await herald(infra.postgresUrl, infra.redisUrl, n, workers, concurrency);
      results.push(r);
      process.stdout.write(
        `herald, ${workers} worker process(es): ${Math.round(r.deliveriesPerSecond)} deliveries/s (ratio to raw BullMQ ${(r.deliveriesPerSecond / noop).toFixed(2)}), ` +
          `ledger row → sent p50 ${Math.round(r.p50Ms)} ms, p99 ${Math.round(r.p99Ms)} ms, fan-out ${Math.round(r.fanoutRowsPerSecond)} ledger rows/s, ` +
          `worker peak RSS ${r.peakRssMb.join(' / ')} MB\n`,
      );
    }
    process.stdout.write(
      `${JSON.stringify({ bench: 'deliveries', n, concurrency, noop_jobs_per_s: Math.round(noop), results })}\n`,
    );
  } finally {
    await infra.stop();
  }
}
