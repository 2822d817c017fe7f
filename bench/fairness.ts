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
import { Client } from 'pg';

/**
 * Fairness between tenants: how long a small tenant's birthday run (B: 300 greetings) takes
 * from its start to its last send, alone on an idle fleet and then while a big tenant's
 * broadcast (A: 100,000 contacts) keeps the same workers busy. Target: under A's load, B takes
 * at most twice as long as alone. Each round uses a fresh small tenant (a birthday greets a
 * contact once a year); times are the database's (run start to the last `sent_at`).
 * `--small-weight=3` gives B three pages a turn to A's one.
 */
const SECRET = 'bench-fair-secret-0123456789abcdef01234';

function option(args: string[], name: string, fallback: number): number {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.split('=')[1]) : fallback;
}

interface Round {
  ms: number;
  /** A's deliveries sent while this B run was in progress (0 when alone). */
  aSentMeanwhile: number;
}

export async function runFairnessBenchmark(args: string[]): Promise<void> {
  const big = option(args, 'big', 100_000);
  const small = option(args, 'small', 300);
  const rounds = option(args, 'rounds', 3);
  const workerCount = option(args, 'workers', 1);
  const smallWeight = option(args, 'small-weight', 1);
  const infra = await startInfrastructure();
  const sink = await WebhookSink.start(SECRET);
  try {
    await prepareTemplate(infra.postgresUrl);
    const db = await createTestDatabase(infra.postgresUrl);
    const prefix = `benchfair${Date.now()}`;
    const env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: infra.redisUrl,
      QUEUE_PREFIX: prefix,
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      DATABASE_POOL_MAX: '20',
      LOG_LEVEL: 'info',
    });
    const webhook = { url: sink.url, secret: SECRET };
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const a = await seedBroadcast({ databaseUrl: db.url, env, contacts: big, webhook });
    const birthdayRun = async () => {
      const b = await seedBroadcast({ databaseUrl: db.url, env, contacts: small, webhook });
      await client.query(`UPDATE campaigns SET kind = 'birthday' WHERE id = $1`, [b.campaignId]);
      await client.query(`UPDATE tenants SET delivery_weight = $2 WHERE id = $1`, [b.tenantId, smallWeight]);
      await client.query(
        `UPDATE contacts SET birth_date = make_date(1992, extract(month FROM now() AT TIME ZONE 'Europe/Paris')::int,
                                                    extract(day FROM now() AT TIME ZONE 'Europe/Paris')::int)
          WHERE tenant_id = $1`,
        [b.tenantId],
      );
      return b;
    };
    const alone: Awaited<ReturnType<typeof birthdayRun>>[] = [];
    const loaded: Awaited<ReturnType<typeof birthdayRun>>[] = [];
    for (let i = 0; i < rounds; i++) alone.push(await birthdayRun());
    for (let i = 0; i < rounds; i++) loaded.push(await birthdayRun());
    const workers = await Promise.all(
      Array.from({ length: workerCount }, () => HeraldProcess.start('worker', env)),
    );
    const runs = new Queue('runs', { connection: { url: infra.redisUrl }, prefix: hashTaggedPrefix(prefix) });
    const start = (tenantId: string, runId: string) =>
      runs.add(
        'runs.fanout',
        { payload: { tenant_id: tenantId, run_id: runId }, trace: {} },
        { ...JOBS['runs.fanout'].options, jobId: runId },
      );
    const one = async <T>(text: string, params: unknown[] = []): Promise<T> =>
      (await client.query(text, params)).rows[0] as T;
    const sent = async (runId: string) =>
      Number(
        (
          await one<{ n: string }>(
            `SELECT count(*) AS n FROM deliveries WHERE run_id = $1 AND status = 'sent'`,
            [runId],
          )
        ).n,
      );
    const until = async (check: () => Promise<boolean>) => {
      while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    const measure = async (b: { tenantId: string; runId: string }): Promise<Round> => {
      const { now } = await one<{ now: Date }>('SELECT clock_timestamp() AS now');
      await start(b.tenantId, b.runId);
      await until(async () => (await sent(b.runId)) === small);
      const { last } = await one<{ last: Date }>(
        'SELECT max(sent_at) AS last FROM deliveries WHERE run_id = $1',
        [b.runId],
      );
      const meanwhile = await one<{ n: string }>(
        `SELECT count(*) AS n FROM deliveries WHERE run_id = $1 AND sent_at BETWEEN $2 AND $3`,
        [a.runId, now, last],
      );
      return { ms: last.getTime() - now.getTime(), aSentMeanwhile: Number(meanwhile.n) };
    };

    const aloneRounds: Round[] = [];
    for (const b of alone) aloneRounds.push(await measure(b));
    await start(a.tenantId, a.runId);
    // A at full speed: its fan-out paused on a full backlog, its pages filling the window.
    await until(async () => (await sent(a.runId)) >= 2000);
    const loadedRounds: Round[] = [];
    for (const b of loaded) loadedRounds.push(await measure(b));
    const aSent = await sent(a.runId);
    await client.query(`UPDATE campaign_runs SET status = 'cancelled' WHERE id = $1`, [a.runId]);

    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const aloneMs = median(aloneRounds.map((r) => r.ms));
    const loadedMs = median(loadedRounds.map((r) => r.ms));
    const aRate =
      loadedRounds.reduce((s, r) => s + r.aSentMeanwhile, 0) /
      (loadedRounds.reduce((s, r) => s + r.ms, 0) / 1000);
    process.stdout.write(
      `B (${small} birthday greetings, delivery weight ${smallWeight} to A's 1), alone: ${aloneMs} ms (rounds ${aloneRounds.map((r) => r.ms).join(', ')}); ` +
        `under A's ${big}-contact broadcast: ${loadedMs} ms (rounds ${loadedRounds.map((r) => r.ms).join(', ')}), ` +
        `ratio ${(loadedMs / aloneMs).toFixed(2)} (target ≤ 2); A meanwhile ${Math.round(aRate)} deliveries/s, ` +
        `${aSent} of ${big} sent when the last B run finished; ${workerCount} worker process(es)\n`,
    );
    process.stdout.write(
      `${JSON.stringify({ bench: 'fairness', big, small, small_weight: smallWeight, workers: workerCount, alone_ms: aloneRounds.map((r) => r.ms), loaded_ms: loadedRounds.map((r) => r.ms), ratio: loadedMs / aloneMs, a_rate_during_b: Math.round(aRate), a_sent: aSent })}\n`,
    );
    await Promise.all(workers.map((w) => w.stop()));
    await runs.close();
    await client.end();
    await db.drop();
  } finally {
    await sink.stop();
    await infra.stop();
  }
}
