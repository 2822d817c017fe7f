import { hashTaggedPrefix, JOBS } from '@herald/queues';
import {
  createTestDatabase,
  eventually,
  HeraldProcess,
  seedBroadcast,
  testEnvironment,
  testRedisPrefix,
  testRedisUrl,
  type TestDatabase,
} from '@herald/testing';
import { Queue } from 'bullmq';
import { Client } from 'pg';

jest.setTimeout(240_000);

const BIG = 100_000;
const SMALL = 300;

/**
 * Fairness between tenants (#16 item 5), by ledger order, never by wall time: tenant A's
 * 100,000-contact broadcast is well under way (its fan-out has written more ledger rows than
 * the small tenant will ever need) when tenant B's 300 birthday greetings start; B's deliveries
 * interleave with A's from the start and are all sent before A has sent 10 % of its run.
 * A real worker process, real Postgres and Redis, the dry-run channel.
 */
describe('fairness between tenants (worker process)', () => {
  let db: TestDatabase;
  let client: Client;
  let worker: HeraldProcess;
  let runs: Queue;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    client = new Client({ connectionString: db.url });
    await client.connect();
    const prefix = testRedisPrefix();
    env = testEnvironment({ DATABASE_URL: db.url, REDIS_URL: testRedisUrl(), QUEUE_PREFIX: prefix });
    runs = new Queue('runs', { connection: { url: testRedisUrl() }, prefix: hashTaggedPrefix(prefix) });
    worker = await HeraldProcess.start('worker', env);
  });

  afterAll(async () => {
    await worker?.stop();
    await runs?.close();
    await client?.end();
    await db?.drop();
  });

  const startRun = (tenantId: string, runId: string) =>
    runs.add(
      'runs.fanout',
      { payload: { tenant_id: tenantId, run_id: runId }, trace: {} },
      { ...JOBS['runs.fanout'].options, jobId: runId },
    );
  const one = async <T>(text: string, params: unknown[]): Promise<T> =>
    (await client.query(text, params)).rows[0] as T;
  const sentCount = async (runId: string, until?: Date): Promise<number> =>
    Number(
      (
        await one<{ n: string }>(
          `SELECT count(*) AS n FROM deliveries WHERE run_id = $1 AND status = 'sent'
              AND ($2::timestamptz IS NULL OR sent_at <= $2)`,
          [runId, until ?? null],
        )
      ).n,
    );

  it("serves a small tenant's birthday run from the start and finishes it before a big broadcast is 10 % done", async () => {
    const a = await seedBroadcast({ databaseUrl: db.url, env, contacts: BIG, channel: 'dry-run' });
    const b = await seedBroadcast({ databaseUrl: db.url, env, contacts: SMALL, channel: 'dry-run' });
    // B's campaign greets its contacts on their birthday: all 300 have theirs today (B's zone).
    await client.query(`UPDATE campaigns SET kind = 'birthday' WHERE id = $1`, [b.campaignId]);
    await client.query(
      `UPDATE contacts SET birth_date = make_date(1992, extract(month FROM now() AT TIME ZONE 'Europe/Paris')::int,
                                                  extract(day FROM now() AT TIME ZONE 'Europe/Paris')::int)
        WHERE tenant_id = $1`,
      [b.tenantId],
    );

    await startRun(a.tenantId, a.runId);
    // A is in flight: sending, and its fan-out has put more rows in the ledger than B has contacts
    // many times over (under a FIFO queue, all of them would be ahead of B).
    await eventually(
      async () => {
        const run = await one<{ targeted: number }>('SELECT targeted FROM campaign_runs WHERE id = $1', [
          a.runId,
        ]);
        return run.targeted >= 10_000 && (await sentCount(a.runId)) > 0 ? true : undefined;
      },
      { timeoutMs: 120_000, what: "A's run under way" },
    );
    const aSentAtBStart = await sentCount(a.runId);
    await startRun(b.tenantId, b.runId);

    await eventually(async () => ((await sentCount(b.runId)) === SMALL ? true : undefined), {
      timeoutMs: 120_000,
      what: "all of B's greetings sent",
    });
    const span = await one<{ first: Date; last: Date }>(
      `SELECT min(sent_at) AS first, max(sent_at) AS last FROM deliveries WHERE run_id = $1`,
      [b.runId],
    );
    const aBeforeBFirst = await sentCount(a.runId, new Date(span.first.getTime() - 1));
    const aBeforeBLast = await sentCount(a.runId, span.last);
    process.stdout.write(
      `fairness: A had ${aSentAtBStart} sent when B started, ${aBeforeBFirst} before B's first and ` +
        `${aBeforeBLast} by B's last (of ${BIG})\n`,
    );
    // From the start: little of A's work was ahead of B's first page (the window, not a backlog).
    expect(aBeforeBFirst - aSentAtBStart).toBeLessThan(2_000);
    // Done before A is 10 % done.
    expect(aBeforeBLast).toBeLessThan(BIG / 10);
    // Interleaved, not a priority lane: A kept sending while B did.
    expect(aBeforeBLast).toBeGreaterThan(aBeforeBFirst);
    const bRun = await eventually(
      async () => {
        const run = await one<{ status: string; targeted: number }>(
          'SELECT status, targeted FROM campaign_runs WHERE id = $1',
          [b.runId],
        );
        return run.status === 'completed' ? run : undefined;
      },
      { what: "B's run completed" },
    );
    expect(bRun.targeted).toBe(SMALL);

    // Each of B's greetings was sent and recorded once.
    const recorded = await one<{ n: string; distinct: string }>(
      `SELECT count(*) AS n, count(DISTINCT payload->>'delivery_id') AS distinct FROM interactions
        WHERE tenant_id = $1 AND type = 'delivery_sent'`,
      [b.tenantId],
    );
    expect(recorded).toEqual({ n: String(SMALL), distinct: String(SMALL) });
    // A is cancelled rather than sent to the end.
    await client.query(`UPDATE campaign_runs SET status = 'cancelled' WHERE id = $1`, [a.runId]);
  });
});
