import {
  createTestDatabase,
  eventually,
  HeraldProcess,
  REDIS_TOPOLOGIES,
  seedBroadcast,
  startTestRedis,
  testEnvironment,
  testRedisPrefix,
  WebhookSink,
  type TestDatabase,
  type TestRedis,
} from '@herald/testing';
import { hashTaggedPrefix, JOBS } from '@herald/queues';
import { Queue } from 'bullmq';
import { Client } from 'pg';

jest.setTimeout(120_000);

const SECRET = 'sink-secret-0123456789abcdef0123456789';

async function counts(db: TestDatabase, runId: string): Promise<Record<string, number>> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    const rows = await client.query<{ status: string; n: string }>(
      'SELECT status, count(*) AS n FROM deliveries WHERE run_id = $1 GROUP BY status',
      [runId],
    );
    return Object.fromEntries(rows.rows.map((r) => [r.status, Number(r.n)]));
  } finally {
    await client.end();
  }
}

async function sql<T extends Record<string, unknown>>(
  db: TestDatabase,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Once on the run's standalone Redis, once on a 3-master Redis Cluster of its own. */
describe.each(REDIS_TOPOLOGIES)(
  'delivery engine on %s Redis (worker processes, webhook sink on loopback)',
  (topology) => {
    let redis: TestRedis;
    let db: TestDatabase;
    let sink: WebhookSink;
    let env: Record<string, string>;
    let worker: HeraldProcess;
    let runs: Queue;

    beforeAll(async () => {
      [db, sink, redis] = await Promise.all([
        createTestDatabase(),
        WebhookSink.start(SECRET),
        startTestRedis(topology, { shared: true }),
      ]);
      const prefix = testRedisPrefix();
      env = testEnvironment({
        DATABASE_URL: db.url,
        ...redis.env(),
        QUEUE_PREFIX: prefix,
        OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      });
      runs = new Queue('runs', { connection: redis.connection(), prefix: hashTaggedPrefix(prefix) });
      worker = await HeraldProcess.start('worker', env);
      // The worker really talks to this topology (a cluster misread as standalone would fail later, less clearly).
      await worker.waitFor((l) => l.msg === 'redis ready' && l.redis_mode === topology);
    });

    afterAll(async () => {
      await worker?.stop();
      await runs?.close();
      await sink?.stop();
      await db?.drop();
      await redis?.destroy();
    });

    const startRun = (tenantId: string, runId: string) =>
      runs.add(
        'runs.fanout',
        { payload: { tenant_id: tenantId, run_id: runId }, trace: {} },
        { ...JOBS['runs.fanout'].options, jobId: runId },
      );

    it('sends a broadcast to every contact exactly once and completes the run', async () => {
      const seeded = await seedBroadcast({
        databaseUrl: db.url,
        env,
        contacts: 2000,
        webhook: { url: sink.url, secret: SECRET },
      });
      await startRun(seeded.tenantId, seeded.runId);
      await sink.waitForDeliveries(2000);
      const final = await eventually(
        async () => {
          const [run] = await sql<{ status: string; targeted: number }>(
            db,
            'SELECT status, targeted FROM campaign_runs WHERE id = $1',
            [seeded.runId],
          );
          return run?.status === 'completed' ? run : undefined;
        },
        { what: 'run completed' },
      );
      expect(final.targeted).toBe(2000);
      expect(await counts(db, seeded.runId)).toEqual({ sent: 2000 });
      expect(sink.delivered.size).toBe(2000);
      expect(sink.badSignatures).toBe(0);
      const sample = [...sink.delivered.values()][0]!;
      expect(sample.body).toMatchObject({
        campaign_id: seeded.campaignId,
        run_id: seeded.runId,
        subject: expect.stringMatching(/^Hello First\d+$/) as string,
      });
      const [interactions] = await sql<{ n: string }>(
        db,
        `SELECT count(*) AS n FROM interactions WHERE type = 'delivery_sent' AND tenant_id = $1`,
        [seeded.tenantId],
      );
      expect(Number(interactions?.n)).toBe(2000);

      // Running the same fan-out again adds nothing: the ledger already holds every key.
      await runs.add(
        'runs.fanout',
        { payload: { tenant_id: seeded.tenantId, run_id: seeded.runId }, trace: {} },
        { jobId: `${seeded.runId}-again` },
      );
      await eventually(
        async () => ((await runs.getJobState(`${seeded.runId}-again`)) === 'completed' ? true : undefined),
        { what: 'second fan-out done' },
      );
      expect(await counts(db, seeded.runId)).toEqual({ sent: 2000 });
      expect(sink.delivered.size).toBe(2000);
    });

    it('never exceeds a daily quota: the rest waits, deferred to the window reset', async () => {
      const before = sink.delivered.size;
      const seeded = await seedBroadcast({
        databaseUrl: db.url,
        env,
        contacts: 300,
        webhook: { url: sink.url, secret: SECRET },
        quotas: { daily: 120 },
      });
      await startRun(seeded.tenantId, seeded.runId);
      const settled = await eventually(
        async () => {
          const c = await counts(db, seeded.runId);
          return (c.sent ?? 0) + (c.deferred ?? 0) === 300 ? c : undefined;
        },
        { what: 'every delivery sent or deferred' },
      );
      expect(settled).toEqual({ sent: 120, deferred: 180 });
      expect(sink.delivered.size - before).toBe(120);
      const [due] = await sql<{ min: Date }>(
        db,
        `SELECT min(due_at) AS min FROM deliveries WHERE run_id = $1 AND status = 'deferred'`,
        [seeded.runId],
      );
      expect(due!.min.getTime()).toBeGreaterThan(Date.now()); // the next local midnight in Europe/Paris
    });

    it('skips suppressed contacts and fails a delivery whose template lacks a value, without sending', async () => {
      const before = sink.delivered.size;
      const seeded = await seedBroadcast({
        databaseUrl: db.url,
        env,
        contacts: 10,
        webhook: { url: sink.url, secret: SECRET },
        body: 'Hi {{ attributes.nickname }}',
      });
      await sql(
        db,
        `UPDATE contacts SET attributes = '{"nickname":"Ace"}' WHERE tenant_id = $1 AND email IN ('c1@example.test', 'c2@example.test')`,
        [seeded.tenantId],
      );
      await sql(
        db,
        `INSERT INTO suppressions (tenant_id, id, email, reason) VALUES ($1, gen_random_uuid(), 'c2@example.test', 'unsubscribe')`,
        [seeded.tenantId],
      );
      await startRun(seeded.tenantId, seeded.runId);
      const final = await eventually(
        async () => {
          const [run] = await sql<{ status: string }>(db, 'SELECT status FROM campaign_runs WHERE id = $1', [
            seeded.runId,
          ]);
          return run?.status === 'completed' ? counts(db, seeded.runId) : undefined;
        },
        { what: 'run completed' },
      );
      expect(final).toEqual({ sent: 1, skipped: 1, failed: 8 });
      expect(sink.delivered.size - before).toBe(1);
      const [failed] = await sql<{ last_error: string }>(
        db,
        `SELECT last_error FROM deliveries WHERE run_id = $1 AND status = 'failed' LIMIT 1`,
        [seeded.runId],
      );
      expect(failed!.last_error).toBe('template variable "attributes.nickname" has no value and no fallback');
    });

    it('opens the breaker after 3 transient failures, probes once per open period, and delivers everything after recovery', async () => {
      const failing = await WebhookSink.start(SECRET);
      try {
        failing.behaviour = { mode: 'fail', status: 500 };
        const seeded = await seedBroadcast({
          databaseUrl: db.url,
          env,
          contacts: 200,
          webhook: { url: failing.url, secret: SECRET },
        });
        await startRun(seeded.tenantId, seeded.runId);
        // Failures: 3 to open, then one probe per open period (1 s, 2 s, 4 s…). The run's two
        // pages are batches of their own, each with a slow-start window of one send: the call
        // the second has in flight when the first's failures open the circuit fails too, so
        // the opening burst is three or four calls.
        await eventually(() => Promise.resolve(failing.failuresAnswered >= 6 ? true : undefined), {
          timeoutMs: 20_000,
          what: 'breaker probing',
        });
        const burst = failing.failedAt.filter((t) => t - failing.failedAt[0]! < 900);
        expect(burst.length).toBeGreaterThanOrEqual(3);
        expect(burst.length).toBeLessThanOrEqual(4);
        const probes = failing.failedAt.slice(burst.length - 1);
        const gaps = probes.slice(1).map((t, i) => t - probes[i]!);
        expect(gaps.length).toBeGreaterThanOrEqual(2);
        for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(900); // never more than one probe per open period
        const [state] = await sql<{ pending: string }>(
          db,
          `SELECT count(*) FILTER (WHERE status IN ('pending', 'deferred', 'sending')) AS pending FROM deliveries WHERE run_id = $1`,
          [seeded.runId],
        );
        expect(Number(state!.pending)).toBe(200); // nothing given up while the provider is down
        const failedBeforeRecovery = failing.failuresAnswered;

        failing.behaviour = { mode: 'accept' };
        await failing.waitForDeliveries(200);
        expect(failing.failuresAnswered).toBeLessThanOrEqual(failedBeforeRecovery + 1);
        await eventually(
          async () => {
            const c = await counts(db, seeded.runId);
            return c.sent === 200 ? c : undefined;
          },
          { what: 'all sent after recovery' },
        );
        expect(failing.delivered.size).toBe(200);
      } finally {
        await failing.stop();
      }
    });
  },
);
