import { uuidv7, uuidv7Time } from '@herald/contacts';
import { RunStates } from '@herald/campaigns';
import {
  FairDispatcher,
  FairQueue,
  FanoutService,
  FANOUT_PAGE,
  LedgerRepository,
  RunPort,
  SEND_PAGE,
} from '@herald/deliveries';
import { loadConfig } from '@herald/config';
import { dataSourceOptions } from '@herald/persistence';
import { hashTaggedPrefix, JOBS, JobProducer, RedisKeys } from '@herald/queues';
import { Redis } from 'ioredis';
import { HeraldLogger, HeraldMetrics } from '@herald/telemetry';
import {
  createTestDatabase,
  prepareTemplate,
  seedBroadcast,
  startInfrastructure,
  testEnvironment,
} from '@herald/testing';
import type { ModuleRef } from '@nestjs/core';
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { DataSource } from 'typeorm';

/**
 * A run's fan-out (DESIGN §5, worker(runs)): `FanoutService.fanout` in this process on a real
 * Postgres and Redis, for a broadcast of N contacts, against baselines measured in the same run:
 *  - the ledger rows written by one raw `INSERT … SELECT` of the same rows (same table, same
 *    indexes, rolled back), the floor of any page-by-page fan-out;
 *  - N delivery jobs added by raw BullMQ `addBulk` in chunks of one page, one chunk at a time.
 * Memory is sampled every 10 ms while fanning out (and the heap after a full GC every 500 ms),
 * for two audience sizes: it should not grow with the audience (one page at a time).
 */
const SIZES_DEFAULT = [20_000, 100_000];

function option(args: string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
}

interface Sample {
  rss: number;
  heap: number;
}

interface Result {
  contacts: number;
  rawInsertRowsPerS: number;
  rawAddBulkJobsPerS: number;
  fanoutMs: number;
  ledgerRowsPerS: number;
  enqueueJobsPerS: number;
  enqueueShare: number;
  rssGrowthMb: number;
  heapGrowthMb: number;
  /** Largest heap after a full GC (taken every 500 ms while fanning out), over the heap before. */
  retainedHeapGrowthMb: number;
}

const MB = 1024 * 1024;

/** A full GC on demand: the heap that survives it is what the fan-out holds on to. */
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

export async function runFanoutBenchmark(args: string[]): Promise<void> {
  const sizes = (option(args, 'contacts') ?? SIZES_DEFAULT.join(',')).split(',').map(Number);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const infra = await startInfrastructure();
  const dir = mkdtempSync(join(tmpdir(), 'herald-fanout-bench-'));
  chmodSync(dir, 0o755);
  try {
    await prepareTemplate(infra.postgresUrl);
    const results: Result[] = [];
    for (const n of sizes) {
      const r = await measure(infra.postgresUrl, infra.redisUrl, n, dir);
      results.push(r);
      log(
        `${n} contacts: fan-out ${r.fanoutMs.toFixed(0)} ms → ${Math.round(r.ledgerRowsPerS)} ledger rows/s ` +
          `(raw INSERT … SELECT ${Math.round(r.rawInsertRowsPerS)} rows/s, ratio ${(r.ledgerRowsPerS / r.rawInsertRowsPerS).toFixed(2)}), ` +
          `${Math.round(r.enqueueJobsPerS)} deliveries/s enqueued in page jobs of ${SEND_PAGE} (raw addBulk of one job per delivery ${Math.round(r.rawAddBulkJobsPerS)} jobs/s, ratio ${(r.enqueueJobsPerS / r.rawAddBulkJobsPerS).toFixed(2)}; ` +
          `a push or dispatch in flight ${(r.enqueueShare * 100).toFixed(0)} % of the time), ` +
          `peak growth while fanning out: RSS +${r.rssGrowthMb.toFixed(1)} MB, heap +${r.heapGrowthMb.toFixed(1)} MB, heap after full GC +${r.retainedHeapGrowthMb.toFixed(1)} MB`,
      );
    }
    log(`${JSON.stringify({ bench: 'fanout', page: FANOUT_PAGE, results })}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await infra.stop();
  }
}

async function measure(postgresUrl: string, redisUrl: string, n: number, dir: string): Promise<Result> {
  const db = await createTestDatabase(postgresUrl);
  const prefix = `benchfan${Date.now()}`;
  const env = testEnvironment({ DATABASE_URL: db.url, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix });
  const seeded = await seedBroadcast({ databaseUrl: db.url, env, contacts: 0, channel: 'dry-run' });
  const dataSource = new DataSource(
    dataSourceOptions({
      url: db.url,
      poolMax: 10,
      statementTimeoutMs: 0,
      idleInTransactionTimeoutMs: 30_000,
      applicationName: 'bench-fanout',
    }),
  );
  await dataSource.initialize();
  const queues: Queue[] = [];
  let redis: Redis | undefined;
  try {
    // Seed: N contacts with UUIDv7 ids, by a server-side COPY.
    const file = join(dir, `contacts-${n}.csv`);
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = uuidv7();
      lines.push(
        `${seeded.tenantId},${id},${new Date(uuidv7Time(id)).toISOString()},c${i}@example.test,First${i}`,
      );
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    chmodSync(file, 0o644);
    await dataSource.query(
      `COPY contacts (tenant_id, id, created_at, email, first_name) FROM '${file}' WITH (FORMAT csv)`,
    );
    await dataSource.query('VACUUM ANALYZE contacts');

    // Baseline 1: the same ledger rows in one statement (rolled back, then vacuumed away).
    const rawInsertMs = await timed(() =>
      dataSource
        .transaction(async (manager) => {
          const baselineRun = randomUUID();
          await manager.query(
            `INSERT INTO campaign_runs (tenant_id, id, campaign_id, trigger) VALUES ($1, $2, $3, 'manual')`,
            [seeded.tenantId, baselineRun, seeded.campaignId],
          );
          await manager.query(
            `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, run_id, contact_id, sender_account_id, channel, step)
           SELECT c.tenant_id, gen_random_uuid(), 'bc:' || $2::text || ':' || c.id, $3, $2::uuid, c.id, $4, 'dry-run', 0
             FROM contacts c WHERE c.tenant_id = $1 AND c.status = 'active'
           ON CONFLICT (tenant_id, delivery_key) DO NOTHING`,
            [seeded.tenantId, baselineRun, seeded.campaignId, seeded.accountId],
          );
          throw new Rollback();
        })
        .catch((error: unknown) => {
          if (!(error instanceof Rollback)) throw error;
        }),
    );
    await dataSource.query('VACUUM deliveries');

    // Baseline 2: N jobs of the same shape, by raw addBulk a page at a time.
    const rawQueue = new Queue('deliveries', {
      connection: { url: redisUrl },
      prefix: hashTaggedPrefix(`${prefix}raw`),
    });
    queues.push(rawQueue);
    const rawAddMs = await timed(async () => {
      for (let i = 0; i < n; i += FANOUT_PAGE) {
        await rawQueue.addBulk(
          Array.from({ length: Math.min(FANOUT_PAGE, n - i) }, () => {
            const id = randomUUID();
            return {
              name: 'deliveries.send',
              data: { payload: { tenant_id: seeded.tenantId, delivery_id: id }, trace: {} },
              opts: { ...JOBS['deliveries.send'].options, jobId: id },
            };
          }),
        );
      }
    });
    await rawQueue.obliterate({ force: true });

    // Herald: FanoutService in this process, with the fair queue on the same Redis, its push and dispatch time counted.
    const deliveries = new Queue('deliveries', {
      connection: { url: redisUrl },
      prefix: hashTaggedPrefix(prefix),
    });
    queues.push(deliveries);
    const logger = new HeraldLogger({ pinoHttp: { level: 'silent' } });
    const metrics = new HeraldMetrics();
    // The producer looks its queues up through Nest's ModuleRef: this stands in for it.
    const moduleRef = { get: () => deliveries } as unknown as ModuleRef;
    const producer = new JobProducer(moduleRef, logger, metrics);
    producer.onModuleInit();
    redis = new Redis(redisUrl);
    const keys = new RedisKeys(prefix);
    const fair = new FairQueue(redis, keys);
    const dispatcher = new FairDispatcher(fair, producer, redis, keys, loadConfig(env), logger);
    // Wall time with a push to the fair queue or a dispatch (addBulk) in flight.
    let enqueueMs = 0;
    let inFlight = 0;
    let since = 0;
    const counted =
      <A extends unknown[], R>(work: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        if (inFlight++ === 0) since = performance.now();
        try {
          return await work(...args);
        } finally {
          if (--inFlight === 0) enqueueMs += performance.now() - since;
        }
      };
    fair.push = counted(fair.push.bind(fair));
    producer.enqueueBulk = counted(producer.enqueueBulk.bind(producer));
    // Runs are completed by their owner, campaigns, as in the apps.
    const runs = new RunPort();
    new RunStates(dataSource, metrics, runs).onModuleInit();
    const fanout = new FanoutService(
      dataSource,
      fair,
      dispatcher,
      new LedgerRepository(dataSource, runs),
      runs,
      logger,
      producer,
    );
    // The fan-out alone, unpaced: no worker drains the fair queue here, so its brake is lifted.
    fanout.backlogLimit = Number.POSITIVE_INFINITY;

    collect();
    const before = memory();
    const samples: Sample[] = [];
    const retained: number[] = [];
    const sampler = setInterval(() => samples.push(memory()), 10);
    const collector = setInterval(() => {
      collect();
      retained.push(process.memoryUsage().heapUsed);
    }, 500);
    let result: { targeted: number; enqueued: number } | undefined;
    const fanoutMs = await timed(async () => {
      result = await fanout.fanout(seeded.tenantId, seeded.runId);
    });
    clearInterval(sampler);
    clearInterval(collector);
    samples.push(memory());
    // Every delivery is queued: in page jobs dispatched to the queue, or waiting in the fair queue.
    const pages = await deliveries.getJobs(['waiting', 'prioritized', 'delayed']);
    const queued =
      pages.reduce(
        (sum, job) => sum + (job.data as { payload: { delivery_ids: string[] } }).payload.delivery_ids.length,
        0,
      ) + (await fair.stats()).queuedDeliveries;
    if (result?.targeted !== n || queued !== n)
      throw new Error(
        `fan-out wrote ${result?.targeted} rows and queued ${queued} deliveries, expected ${n}`,
      );
    await deliveries.obliterate({ force: true });
    return {
      contacts: n,
      rawInsertRowsPerS: (n / rawInsertMs) * 1000,
      rawAddBulkJobsPerS: (n / rawAddMs) * 1000,
      fanoutMs,
      ledgerRowsPerS: (n / fanoutMs) * 1000,
      enqueueJobsPerS: (n / fanoutMs) * 1000,
      enqueueShare: enqueueMs / fanoutMs,
      rssGrowthMb: (Math.max(...samples.map((s) => s.rss)) - before.rss) / MB,
      heapGrowthMb: (Math.max(...samples.map((s) => s.heap)) - before.heap) / MB,
      retainedHeapGrowthMb: (Math.max(before.heap, ...retained) - before.heap) / MB,
    };
  } finally {
    await Promise.all(queues.map((q) => q.close()));
    await redis?.quit();
    await dataSource.destroy();
    await db.drop();
  }
}

class Rollback extends Error {}

function memory(): Sample {
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}
