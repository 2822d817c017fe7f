import { queryTimeoutMs } from '@herald/persistence';
import {
  createTestDatabase,
  dataSourceBehindProxy,
  eventually,
  type FreezableProxy,
  seedBroadcast,
  testEnvironment,
  testRedisUrl,
  type TestDatabase,
} from '@herald/testing';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { LedgerRepository } from '../src/ledger.repository';
import { OutcomeRecorder } from '../src/outcome-recorder';
import { RunPort } from '../src/run-port';

const STATEMENT_TIMEOUT_MS = 500;
const BOUND_MS = queryTimeoutMs(STATEMENT_TIMEOUT_MS)!;
/** The retry's backoff (≤ 100 ms on its first attempts), its statement, timers on a loaded box. */
const SLACK_MS = 1500;
/** What the `sent` statement says on the wire (LEDGER_SQL.markSent), for the proxy to catch it. */
const SENT_STATEMENT = "SET status = 'sent'";

/**
 * The worker's group-committed `sent` write (OutcomeRecorder over the real ledger) when the
 * connection under its one in-flight statement goes silent: Postgres behind a proxy that stops
 * forwarding without closing anything. The statement must give up within the client-side bound,
 * land through another connection, and record each delivery once.
 */
describe('recording `sent` while the connection under the statement goes silent', () => {
  let database: TestDatabase;
  let proxy: FreezableProxy;
  let dataSource: DataSource;
  let admin: Client;
  let recorder: OutcomeRecorder;
  const retries: string[] = [];
  let tenantId: string;
  let sending: string[];

  beforeAll(async () => {
    database = await createTestDatabase();
    const seeded = await seedBroadcast({
      databaseUrl: database.url,
      env: testEnvironment({ DATABASE_URL: database.url, REDIS_URL: testRedisUrl() }),
      contacts: 6,
    });
    tenantId = seeded.tenantId;
    admin = new Client({ connectionString: database.url });
    await admin.connect();
    // Six deliveries claimed by an attempt, as the pipeline leaves them while the provider answers.
    const { rows } = await admin.query<{ id: string }>(
      `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, run_id, contact_id, sender_account_id, channel, step,
                               status, attempts, lease_until, claim_token)
       SELECT c.tenant_id, gen_random_uuid(), 'bc:' || $2::text || ':' || c.id, $3::uuid, $2::uuid, c.id, $4::uuid, 'webhook', 0,
              'sending', 1, now() + interval '60 seconds', $5::uuid
         FROM contacts c WHERE c.tenant_id = $1
       RETURNING id`,
      [seeded.tenantId, seeded.runId, seeded.campaignId, seeded.accountId, randomUUID()],
    );
    sending = rows.map((r) => r.id);

    ({ proxy, dataSource } = await dataSourceBehindProxy(database.url, {
      poolMax: 2,
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
      applicationName: 'sent-partition-test',
    }));
    recorder = new OutcomeRecorder(new LedgerRepository(dataSource, new RunPort()), (what, error) =>
      retries.push(`${what}: ${(error as Error).message}`),
    );
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await proxy?.close();
    await admin?.end();
    await database?.drop();
  });

  const record = (id: string) => recorder.sent({ tenantId, id, providerMessageId: `pm-${id}` });
  const status = async (id: string): Promise<string> => {
    const { rows } = await admin.query<{ status: string }>('SELECT status FROM deliveries WHERE id = $1', [
      id,
    ]);
    return rows[0]!.status;
  };
  const sentInteractions = async (ids: readonly string[]): Promise<Record<string, number>> => {
    const { rows } = await admin.query<{ id: string; n: number }>(
      `SELECT payload ->> 'delivery_id' AS id, count(*)::int AS n FROM interactions
        WHERE tenant_id = $1 AND type = 'delivery_sent' AND payload ->> 'delivery_id' = ANY($2::text[])
        GROUP BY 1`,
      [tenantId, ids],
    );
    return Object.fromEntries(rows.map((r) => [r.id, r.n]));
  };
  /** Resolves with how long after `since` the promise settled. */
  const settledAfter = (since: number, work: Promise<void>) => work.then(() => performance.now() - since);

  it('the statement landed but its answer was lost: the retry on another connection records nothing twice, and later records are not held past the bound', async () => {
    const [first, ...later] = sending.slice(0, 3) as [string, ...string[]];
    retries.length = 0;
    const frozen = proxy.freezeOn(SENT_STATEMENT, 'after');

    const started = performance.now();
    const firstDone = settledAfter(started, record(first));
    await frozen;
    // Postgres ran and committed it: only the answer is lost on the silent connection.
    await eventually(async () => (await status(first)) === 'sent', {
      what: 'the frozen statement committed',
    });
    // These arrive while the one `sent` statement of the process hangs: they wait for it.
    const laterDone = later.map((id) => settledAfter(started, record(id)));

    const times = await Promise.all([firstDone, ...laterDone]);
    for (const ms of times) expect(ms).toBeLessThan(BOUND_MS + SLACK_MS);
    expect(retries).toEqual(['record sent: Query read timeout']);
    for (const id of [first, ...later]) expect(await status(id)).toBe('sent');
    expect(await sentInteractions([first, ...later])).toEqual({ [first]: 1, [later[0]!]: 1, [later[1]!]: 1 });
  });

  it('the statement itself was lost: the retry on another connection lands it, once', async () => {
    const [lost, later] = sending.slice(3, 5) as [string, string];
    retries.length = 0;
    const frozen = proxy.freezeOn(SENT_STATEMENT, 'before');

    const started = performance.now();
    const lostDone = settledAfter(started, record(lost));
    await frozen;
    expect(await status(lost)).toBe('sending');
    const laterDone = settledAfter(started, record(later));

    for (const ms of await Promise.all([lostDone, laterDone])) expect(ms).toBeLessThan(BOUND_MS + SLACK_MS);
    expect(retries).toEqual(['record sent: Query read timeout']);
    expect(await status(lost)).toBe('sent');
    expect(await status(later)).toBe('sent');
    expect(await sentInteractions([lost, later])).toEqual({ [lost]: 1, [later]: 1 });
  });

  it('the pool is healthy afterwards: a record lands at once, with no retry', async () => {
    const last = sending[5]!;
    retries.length = 0;
    const started = performance.now();
    await record(last);
    expect(performance.now() - started).toBeLessThan(STATEMENT_TIMEOUT_MS);
    expect(retries).toEqual([]);
    expect(await sentInteractions([last])).toEqual({ [last]: 1 });
  });
});
