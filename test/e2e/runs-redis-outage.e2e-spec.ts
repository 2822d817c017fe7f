import {
  callApi,
  createTestDatabase,
  eventually,
  HeraldProcess,
  RedisServer,
  TEST_ADMIN_KEY,
  testEnvironment,
  testRedisPrefix,
  WebhookSink,
  type TestDatabase,
  createTenant,
} from '@herald/testing';
import { Client } from 'pg';

jest.setTimeout(180_000);

const SECRET = 'outage-sink-secret-0123456789abcdef01234';
const CONTACTS = 200;
const RUNS = 3;

type Run = {
  id: string;
  status: string;
  counts: Record<
    'targeted' | 'pending' | 'sent' | 'failed' | 'skipped' | 'deferred' | 'cancelled' | 'unknown',
    number
  >;
  progress: { done: number; total: number; ratio: number; fanout_done: boolean };
};

/**
 * Promise 3 at the API's door, with real api, worker and beat processes: runs accepted (202)
 * while Redis is down are not lost. Each start commits its run and its outbox row in one
 * transaction; the relay fails fast and leaves the row; once Redis is back (empty: it kept no
 * data) the beat's outbox sweep relays it, and every run reaches every contact exactly once.
 */
describe('runs started while Redis is down (api + worker + beat processes)', () => {
  let db: TestDatabase;
  let redis: RedisServer;
  let sink: WebhookSink;
  const fleet: HeraldProcess[] = [];
  let api: HeraldProcess;

  beforeAll(async () => {
    [db, redis, sink] = await Promise.all([
      createTestDatabase(),
      RedisServer.start(),
      WebhookSink.start(SECRET),
    ]);
    const env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: testRedisPrefix(),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      API_RATE_LIMIT_PER_SECOND: '0',
      BEAT_SWEEP_INTERVAL_MS: '500',
      BEAT_LEASE_TTL_MS: '3000',
      BEAT_LEASE_RENEW_MS: '1000',
    });
    fleet.push(
      ...(await Promise.all([
        HeraldProcess.start('api', env),
        HeraldProcess.start('worker', env),
        HeraldProcess.start('beat', env),
      ])),
    );
    api = fleet[0]!;
  });

  afterAll(async () => {
    await Promise.all(fleet.map((p) => p.stop()));
    await sink?.stop();
    await redis?.destroy();
    await db?.drop();
  });

  const call = <T>(method: string, path: string, key: string, body?: unknown) =>
    callApi<T>(api.publicUrl, method, path, key, body);

  const query = async <T extends Record<string, unknown>>(text: string, params: unknown[] = []) => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query<T>(text, params)).rows;
    } finally {
      await client.end();
    }
  };

  it('accepts runs with Redis stopped, and carries every one out once Redis is back', async () => {
    const tenant = await createTenant(api.publicUrl, TEST_ADMIN_KEY, 'Outage');
    const key = tenant.key;
    const account = await call<{ id: string }>('POST', '/v1/sender-accounts', key, {
      name: 'Sink',
      channel: 'webhook',
      config: { url: sink.url, secret: SECRET },
    });
    expect(account.status).toBe(201);
    const imported = await call<{ created: number }>(
      'POST',
      '/v1/contacts/import',
      key,
      Array.from({ length: CONTACTS }, (_, i) => ({ email: `reader${i}@example.test`, first_name: `R${i}` })),
    );
    expect(imported.body.created).toBe(CONTACTS);
    const campaigns: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const campaign = await call<{ id: string }>('POST', '/v1/campaigns', key, {
        name: `Outage ${i}`,
        kind: 'broadcast',
        sender_account_id: account.body.id,
        steps: [{ subject: `Issue ${i} for {{ first_name }}`, body: 'Hello {{ first_name }}' }],
      });
      expect(campaign.status).toBe(201);
      campaigns.push(campaign.body.id);
    }

    await redis.stop();
    const runIds: string[] = [];
    for (const id of campaigns) {
      const started = await call<{ id: string; status: string }>('POST', `/v1/campaigns/${id}/runs`, key, {});
      // Accepted: the run and its outbox row committed together; the relay could not reach Redis.
      expect(started.status).toBe(202);
      expect(started.body.status).toBe('queued');
      runIds.push(started.body.id);
    }
    const waiting = await query<{ job_id: string }>(
      `SELECT job_id FROM outbox WHERE job_name = 'runs.fanout' AND dispatched_at IS NULL`,
    );
    expect(waiting.map((r) => r.job_id).sort()).toEqual([...runIds].sort());
    // Nothing moved while Redis was away: the runs are queued, their ledgers empty.
    for (const id of runIds)
      expect((await call<Run>('GET', `/v1/runs/${id}`, key)).body.status).toBe('queued');

    await redis.start();
    const runs = await eventually(
      async () => {
        const all = await Promise.all(runIds.map((id) => call<Run>('GET', `/v1/runs/${id}`, key)));
        return all.every((r) => r.body.status === 'completed') ? all.map((r) => r.body) : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250, what: 'every run completed after Redis came back' },
    );
    for (const run of runs) {
      expect(run.counts).toEqual({
        targeted: CONTACTS,
        pending: 0,
        sent: CONTACTS,
        failed: 0,
        skipped: 0,
        deferred: 0,
        cancelled: 0,
        unknown: 0,
      });
      expect(run.progress).toEqual({ done: CONTACTS, total: CONTACTS, ratio: 1, fanout_done: true });
    }
    // Every contact of every run reached once: RUNS × CONTACTS distinct keys, each answered once.
    await sink.waitForDeliveries(RUNS * CONTACTS);
    expect(sink.delivered.size).toBe(RUNS * CONTACTS);
    for (const id of runIds)
      expect([...sink.delivered.keys()].filter((k) => k.startsWith(`bc:${id}:`))).toHaveLength(CONTACTS);
    expect([...sink.acceptedAnswers.values()].every((n) => n === 1)).toBe(true);
    expect(sink.badSignatures).toBe(0);
    expect(await query(`SELECT id FROM outbox WHERE dispatched_at IS NULL`)).toEqual([]);
    const ledger = await query<{ n: string; keys: string }>(
      `SELECT count(*) AS n, count(DISTINCT delivery_key) AS keys FROM deliveries WHERE run_id = ANY ($1::uuid[]) AND status = 'sent'`,
      [runIds],
    );
    expect(ledger).toEqual([{ n: String(RUNS * CONTACTS), keys: String(RUNS * CONTACTS) }]);
  });
});
