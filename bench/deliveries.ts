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
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { rawBullmq, rawDeliveryFloor, sqlFloor } from './floors';
import { cpuSeconds, peakRssMb } from './proc-stats';

/**
 * Deliveries end to end, against the two floors of the same machine, in one run:
 *  1. raw BullMQ: N no-op jobs enqueued first, then drained by a bare worker process at
 *     concurrency 50, 100 and 200 (the best counts);
 *  2. raw SQL: the ledger statements of N deliveries (insert, claim, sent + interaction), bare,
 *     batched like Herald's batches, on 1 and 4 connections (the best counts);
 *  3. Herald: a broadcast run of N contacts through the webhook channel to a local sink (no
 *     quota limits): fan-out, ledger, quota, breaker, signed HTTP call, `sent` + interaction,
 *     quota commit — with one worker process, then with two.
 * Reports deliveries/s, the ratio to min(1, 2), p50/p99 from ledger row to `sent`, the fan-out
 * rate, the workers' peak RSS, and CPU per delivery in the workers, the Postgres backends serving
 * them, Redis and the sink (what a loaded machine distorts least). `--workers=1` runs Herald with
 * one worker only; `--cpu-prof=<dir>` has each worker write a V8 CPU profile there; `--floors=0`
 * skips the floors; `--node-options='<flags>'` starts the workers with those node flags.
 */
const SECRET = 'bench-sink-secret-0123456789abcdef0123456';

function option(args: string[], name: string, fallback: number): number {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.split('=')[1]) : fallback;
}

interface HeraldResult {
  workers: number;
  deliveriesPerSecond: number;
  fanoutRowsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMb: number[];
  /** Worker CPU per delivery, all workers together: what a delivery costs, whatever else runs. */
  cpuMsPerDelivery: number;
  /**
   * The same for what the workers make others do: the Postgres backends serving the workers,
   * the Redis server, and this process (the sink answering the webhook calls).
   */
  othersCpuMsPerDelivery: { postgres: number; redis: number; sink: number };
}

/** Redis's own CPU seconds (user + system), from INFO. */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? NaN);
  return field('used_cpu_user') + field('used_cpu_sys');
}

async function herald(
  postgresUrl: string,
  redisUrl: string,
  n: number,
  workerCount: number,
  concurrency: number,
  cpuProfDir?: string,
  nodeOptions?: string,
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
    // The queues a delivery goes through: a queue no delivery touches (sourcing) stays out of the figures.
    WORKER_QUEUES: 'system,runs,deliveries',
    // `--cpu-prof=<dir>`: each worker writes a V8 CPU profile there when it stops.
    ...(cpuProfDir || nodeOptions
      ? {
          NODE_OPTIONS: [cpuProfDir ? `--cpu-prof --cpu-prof-dir=${cpuProfDir}` : '', nodeOptions ?? '']
            .join(' ')
            .trim(),
        }
      : {}),
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
  const redis = new Redis(redisUrl);
  const redisCpuBefore = await redisCpuSeconds(redis);
  const benchCpuBefore = process.cpuUsage();
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
  const cpu = workers.reduce((sum, w) => sum + cpuSeconds(w.pid), 0);
  const sinkCpu = process.cpuUsage(benchCpuBefore);
  const redisCpu = (await redisCpuSeconds(redis)) - redisCpuBefore;
  // The workers' pool connections: their backends started with the workers and serve only them.
  const { rows: backends } = await client.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
  );
  const postgresCpu = backends.reduce((sum, b) => sum + cpuSeconds(b.pid), 0);
  await redis.quit();
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
    cpuMsPerDelivery: (cpu * 1000) / n,
    othersCpuMsPerDelivery: {
      postgres: (postgresCpu * 1000) / n,
      redis: (redisCpu * 1000) / n,
      sink: (sinkCpu.user + sinkCpu.system) / 1000 / n,
    },
  };
}

export async function runDeliveriesBenchmark(args: string[]): Promise<void> {
  const n = option(args, 'deliveries', 50_000);
  const concurrency = option(args, 'concurrency', 200);
  const workerCounts = option(args, 'workers', 2) === 1 ? [1] : [1, 2];
  const cpuProfDir = args.find((a) => a.startsWith('--cpu-prof='))?.split('=')[1];
  const nodeOptions = args.find((a) => a.startsWith('--node-options='))?.slice('--node-options='.length);
  const infra = await startInfrastructure();
  try {
    await prepareTemplate(infra.postgresUrl);
    const floors = option(args, 'floors', 1) === 1;
    const queue = floors
      ? await rawBullmq(infra.redisUrl, n, [50, 100, 200])
      : { best: { setting: 'skipped', perSecond: NaN }, tried: [] };
    if (floors)
      process.stdout.write(
        `raw BullMQ no-op jobs (${n} enqueued first, 1 worker process): ${queue.tried
          .map((t) => `${t.setting} ${Math.round(t.perSecond)}/s`)
          .join(', ')}\n`,
      );
    // The raw SQL and raw delivery loops: their database, batches of `concurrency`, on 1 and 4 connections.
    const floorArgs = [
      infra.postgresUrl,
      testEnvironment({ DATABASE_URL: infra.postgresUrl, REDIS_URL: infra.redisUrl }),
      n,
      concurrency,
      [1, 4],
    ] as const;
    const sql = floors
      ? await sqlFloor(...floorArgs)
      : { best: { setting: 'skipped', perSecond: NaN }, tried: [] };
    if (floors)
      process.stdout.write(
        `raw ledger SQL (insert, claim, sent + interaction; batches of ${concurrency}): ${sql.tried
          .map((t) => `${t.setting} ${Math.round(t.perSecond)}/s`)
          .join(', ')}\n`,
      );
    const floor = Math.min(queue.best.perSecond, sql.best.perSecond);
    process.stdout.write(
      floors
        ? `floor = min(raw BullMQ ${Math.round(queue.best.perSecond)}/s, raw SQL ${Math.round(sql.best.perSecond)}/s) = ${Math.round(floor)}/s\n`
        : 'floors skipped (--floors=0): Herald alone, no ratios\n',
    );
    const raw = floors ? await rawDeliveryFloor(...floorArgs) : undefined;
    if (raw) {
      process.stdout.write(
        `raw webhook delivery (the same SQL and a signed POST per row to the same sink; batches of ${concurrency}): ${raw.tried
          .map(
            (t) =>
              `${t.setting} ${Math.round(t.perSecond)}/s (CPU per delivery: loop ${t.cpuMsPerDelivery.loop.toFixed(2)} ms, ` +
              `Postgres ${t.cpuMsPerDelivery.postgres.toFixed(2)} ms, sink ${t.cpuMsPerDelivery.sink.toFixed(2)} ms)`,
          )
          .join(', ')}\n`,
      );
    }
    const rawRate = raw?.best.perSecond ?? NaN;
    const results: HeraldResult[] = [];
    for (const workers of workerCounts) {
      const r = await herald(
        infra.postgresUrl,
        infra.redisUrl,
        n,
        workers,
        concurrency,
        cpuProfDir,
        nodeOptions,
      );
      results.push(r);
      process.stdout.write(
        `herald, ${workers} worker process(es): ${Math.round(r.deliveriesPerSecond)} deliveries/s` +
          (floors
            ? ` (${(r.deliveriesPerSecond / floor).toFixed(2)} × floor, ${(r.deliveriesPerSecond / rawRate).toFixed(2)} × raw webhook delivery)`
            : '') +
          `, ledger row → sent p50 ${Math.round(r.p50Ms)} ms, p99 ${Math.round(r.p99Ms)} ms, fan-out ${Math.round(r.fanoutRowsPerSecond)} ledger rows/s, ` +
          `worker peak RSS ${r.peakRssMb.join(' / ')} MB, CPU per delivery: worker ${r.cpuMsPerDelivery.toFixed(2)} ms, ` +
          `Postgres ${r.othersCpuMsPerDelivery.postgres.toFixed(2)} ms, Redis ${r.othersCpuMsPerDelivery.redis.toFixed(2)} ms, ` +
          `sink ${r.othersCpuMsPerDelivery.sink.toFixed(2)} ms\n`,
      );
    }
    process.stdout.write(
      `${JSON.stringify({
        bench: 'deliveries',
        n,
        concurrency,
        raw_bullmq: queue,
        raw_sql: sql,
        floor_per_s: Math.round(floor),
        raw_delivery: raw ?? null,
        results,
      })}\n`,
    );
  } finally {
    await infra.stop();
  }
}
