import {
  createTestDatabase,
  eventually,
  HeraldProcess,
  PostgresServer,
  prepareTemplate,
  RedisServer,
  seedBroadcast,
  testEnvironment,
  testRedisPrefix,
  WebhookSink,
  type TestDatabase,
} from '@herald/testing';
import { hashTaggedPrefix, JOBS } from '@herald/queues';
import { Queue } from 'bullmq';
import { Client } from 'pg';

jest.setTimeout(240_000);

const SECRET = 'fault-sink-secret-0123456789abcdef012345';
const N = 10_000;

/**
 * Promises 2 and 3 under faults, with real processes: 10,000 deliveries in flight through a
 * webhook sink that counts each idempotency key, while a worker is killed, Redis restarts and
 * Postgres restarts. Every key must be delivered, and none twice.
 */
describe('deliveries under faults (10,000 in flight)', () => {
  let pg: PostgresServer;
  let redis: RedisServer;
  let db: TestDatabase;
  let sink: WebhookSink;
  let env: Record<string, string>;
  let runs: Queue;
  const workers: HeraldProcess[] = [];

  const query = async <T extends Record<string, unknown>>(
    text: string,
    params: unknown[] = [],
  ): Promise<T[]> => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query<T>(text, params)).rows;
    } finally {
      await client.end();
    }
  };

  /** Seeds a run, starts it, runs `fault` once `atDelivered` keys arrived, and checks the end state. */
  async function runThrough(fault: () => Promise<void>, atDelivered: number): Promise<void> {
    sink.delivered.clear();
    sink.acceptedAnswers.clear();
    sink.replays = 0;
    const seeded = await seedBroadcast({
      databaseUrl: db.url,
      env,
      contacts: N,
      webhook: { url: sink.url, secret: SECRET },
    });
    await runs.add(
      'runs.fanout',
      { payload: { tenant_id: seeded.tenantId, run_id: seeded.runId }, trace: {} },
      { ...JOBS['runs.fanout'].options, jobId: seeded.runId },
    );
    await sink.waitForDeliveries(atDelivered);
    await fault();
    await sink.waitForDeliveries(N);
    await eventually(
      async () => {
        const [run] = await query<{ status: string }>('SELECT status FROM campaign_runs WHERE id = $1', [
          seeded.runId,
        ]);
        return run?.status === 'completed' ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'run completed' },
    );
    const ledger = await query<{ status: string; n: string; keys: string }>(
      'SELECT status, count(*) AS n, count(DISTINCT delivery_key) AS keys FROM deliveries WHERE run_id = $1 GROUP BY status',
      [seeded.runId],
    );
    expect(ledger).toEqual([{ status: 'sent', n: String(N), keys: String(N) }]);
    // One delivery_sent interaction per delivery: the ledger recorded each send once.
    const [interactions] = await query<{ n: string; distinct: string }>(
      `SELECT count(*) AS n, count(DISTINCT payload->>'delivery_id') AS distinct FROM interactions WHERE tenant_id = $1 AND type = 'delivery_sent'`,
      [seeded.tenantId],
    );
    expect(interactions).toEqual({ n: String(N), distinct: String(N) });
    // 0 lost, 0 delivered twice: every key reached the provider, each exactly once. A crash can
    // make Herald ask again for a key it already sent (its idempotency key is the same, and the
    // provider answers with the first result): that is a replay, counted and bounded here.
    expect(sink.delivered.size).toBe(N);
    const keys = new Set([...sink.delivered.values()].map((d) => String(d.body.idempotency_key)));
    expect(keys.size).toBe(N);
    expect(sink.replays).toBeLessThan(1000);
    process.stdout.write(`fault run: ${N} delivered, ${sink.replays} idempotent replays\n`);
  }

  beforeAll(async () => {
    [pg, redis, sink] = await Promise.all([
      PostgresServer.start({ fast: true }),
      RedisServer.start({ appendOnly: true }),
      WebhookSink.start(SECRET),
    ]);
    await prepareTemplate(pg.url());
    db = await createTestDatabase(pg.url());
    const prefix = testRedisPrefix();
    env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      QUEUE_LOCK_DURATION_MS: '4000',
      QUEUE_STALLED_INTERVAL_MS: '2000',
      DELIVERY_SEND_LEASE_MS: '5000',
    });
    runs = new Queue('runs', { connection: { url: redis.url }, prefix: hashTaggedPrefix(prefix) });
    runs.on('error', () => undefined);
    workers.push(await HeraldProcess.start('worker', env));
  });

  afterAll(async () => {
    await Promise.all(workers.filter((w) => w.running).map((w) => w.stop()));
    await runs?.close();
    await sink?.stop();
    await db?.drop().catch(() => undefined);
    await Promise.all([pg?.destroy(), redis?.destroy()]);
  });

  it('kill -9 of a worker mid-stream: another worker finishes, nothing lost, nothing twice', async () => {
    await runThrough(async () => {
      const victim = workers[workers.length - 1]!;
      victim.signal('SIGKILL');
      await victim.exited;
      workers.push(await HeraldProcess.start('worker', env));
    }, 2500);
  });

  it('Redis restarts (AOF on) mid-stream: the queue resumes, nothing lost, nothing twice', async () => {
    await runThrough(async () => {
      await redis.restart();
    }, 2500);
    expect(workers.at(-1)?.running).toBe(true); // rode the outage out, no crash
  });

  it('Postgres restarts mid-stream: jobs retry until it is back, nothing lost, nothing twice', async () => {
    await runThrough(async () => {
      await pg.stop();
      await pg.start();
    }, 2500);
    expect(workers.at(-1)?.running).toBe(true);
  });
});
