import { hashTaggedPrefix, JOBS } from '@herald/queues';
import {
  createTestDatabase,
  eventually,
  HeraldProcess,
  RedisServer,
  seedBroadcast,
  testEnvironment,
  testRedisPrefix,
  WebhookSink,
  type TestDatabase,
} from '@herald/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Client } from 'pg';

jest.setTimeout(120_000);

const SECRET = 'reconciler-sink-secret-0123456789abcdef01';

/**
 * Promise 3 when Redis loses its data: the ledger in Postgres still says what is left, and the
 * leading beat's sweep puts it back on the queue.
 */
describe('beat reconciler after Redis data loss', () => {
  let db: TestDatabase;
  let redis: RedisServer;
  let sink: WebhookSink;
  let env: Record<string, string>;
  const processes: HeraldProcess[] = [];

  beforeAll(async () => {
    [db, redis, sink] = await Promise.all([
      createTestDatabase(),
      RedisServer.start(),
      WebhookSink.start(SECRET),
    ]);
    env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: testRedisPrefix(),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      BEAT_SWEEP_INTERVAL_MS: '500',
      DELIVERY_STALL_MS: '1500',
      DELIVERY_SEND_LEASE_MS: '3000',
      BEAT_LEASE_TTL_MS: '2000',
      BEAT_LEASE_RENEW_MS: '500',
    });
  });

  afterAll(async () => {
    await Promise.all(processes.filter((p) => p.running).map((p) => p.stop()));
    await sink?.stop();
    await redis?.destroy();
    await db?.drop();
  });

  it('delivers every accepted delivery once, after the queue was wiped mid-run', async () => {
    const n = 2000;
    const seeded = await seedBroadcast({
      databaseUrl: db.url,
      env,
      contacts: n,
      webhook: { url: sink.url, secret: SECRET },
    });
    const worker = await HeraldProcess.start('worker', env);
    processes.push(worker);
    const runs = new Queue('runs', {
      connection: { url: redis.url },
      prefix: hashTaggedPrefix(env.QUEUE_PREFIX!),
    });
    await runs.add(
      'runs.fanout',
      { payload: { tenant_id: seeded.tenantId, run_id: seeded.runId }, trace: {} },
      { ...JOBS['runs.fanout'].options, jobId: seeded.runId },
    );
    await runs.close();
    await sink.waitForDeliveries(300);

    // A crash and a Redis that comes back empty: every queued, delayed and active job is gone.
    worker.signal('SIGKILL');
    await worker.exited;
    const admin = new Redis(redis.url);
    await admin.flushall();
    await admin.quit();
    const lostAt = sink.delivered.size;
    expect(lostAt).toBeLessThan(n);

    processes.push(await HeraldProcess.start('worker', env), await HeraldProcess.start('beat', env));
    await sink.waitForDeliveries(n);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const final = await eventually(
      async () => {
        const { rows } = await client.query<{ status: string; n: string }>(
          'SELECT status, count(*) AS n FROM deliveries WHERE run_id = $1 GROUP BY status',
          [seeded.runId],
        );
        return rows.length === 1 && rows[0]?.status === 'sent' ? rows : undefined;
      },
      { what: 'ledger all sent' },
    );
    // The run is settled just after its last delivery is recorded: wait for it, do not race it.
    const runStatus = await eventually(
      async () => {
        const run = await client.query<{ status: string }>('SELECT status FROM campaign_runs WHERE id = $1', [
          seeded.runId,
        ]);
        const status = run.rows[0]?.status;
        return status === 'running' || status === 'queued' ? undefined : status;
      },
      { what: 'run settled' },
    );
    await client.end();
    expect(final).toEqual([{ status: 'sent', n: String(n) }]);
    expect(runStatus).toBe('completed');
    expect(sink.delivered.size).toBe(n);
    const beat = processes.at(-1)!;
    expect(beat.lines.some((l) => l.msg === 'stalled deliveries enqueued again')).toBe(true);
  });
});
