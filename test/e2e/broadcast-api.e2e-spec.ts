import { QUEUE_NAMES } from '@herald/queues';
import {
  callApi,
  createTestDatabase,
  eventually,
  HeraldProcess,
  TEST_ADMIN_KEY,
  testEnvironment,
  testRedisPrefix,
  testRedisUrl,
  WebhookSink,
  type TestDatabase,
  createTenant,
} from '@herald/testing';

jest.setTimeout(120_000);

const SECRET = 'broadcast-api-sink-secret-0123456789abcd';
const CONTACTS = 500;

type Run = {
  id: string;
  status: string;
  counts: Record<
    'targeted' | 'pending' | 'sent' | 'failed' | 'skipped' | 'deferred' | 'cancelled' | 'unknown',
    number
  >;
  started_at: string | null;
  finished_at: string | null;
};

/**
 * The simplest real path to deliveries, through the public API only, with real api and worker
 * processes: a tenant, a webhook sender account, contacts, a broadcast campaign, a run — and
 * every contact reached exactly once at a loopback provider that checks signatures.
 */
describe('a broadcast through the API (api + worker processes)', () => {
  let db: TestDatabase;
  let sink: WebhookSink;
  let api: HeraldProcess;
  let worker: HeraldProcess;

  beforeAll(async () => {
    [db, sink] = await Promise.all([createTestDatabase(), WebhookSink.start(SECRET)]);
    const env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: testRedisPrefix(),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      API_RATE_LIMIT_PER_SECOND: '0',
    });
    [api, worker] = await Promise.all([HeraldProcess.start('api', env), HeraldProcess.start('worker', env)]);
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await sink?.stop();
    await db?.drop();
  });

  const call = <T>(
    method: string,
    path: string,
    key: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => callApi<T>(api.publicUrl, method, path, key, body, headers);

  it('creates everything through the API, runs the broadcast and reaches each contact once', async () => {
    const tenant = await createTenant(api.publicUrl, TEST_ADMIN_KEY, 'Broadcaster');
    const key = tenant.key;

    const account = await call<{ id: string; config: Record<string, unknown> }>(
      'POST',
      '/v1/sender-accounts',
      key,
      {
        name: 'Loopback sink',
        channel: 'webhook',
        config: { url: sink.url, secret: SECRET },
        quotas: { daily: 1000 },
        time_zone: 'UTC',
      },
    );
    expect(account.status).toBe(201);
    expect(account.body.config).toEqual({ url: sink.url });

    const contacts = Array.from({ length: CONTACTS }, (_, i) => ({
      email: `reader${i}@example.test`,
      first_name: `Reader${i}`,
      tags: ['newsletter'],
    }));
    const imported = await call<{ created: number; failed: number }>(
      'POST',
      '/v1/contacts/import',
      key,
      contacts,
    );
    expect(imported.body).toMatchObject({ created: CONTACTS, failed: 0 });

    const campaign = await call<{ id: string }>('POST', '/v1/campaigns', key, {
      name: 'Launch',
      kind: 'broadcast',
      sender_account_id: account.body.id,
      steps: [{ subject: 'Hello {{ first_name }}', body: 'Hi {{ first_name }}, we launched.' }],
      audience: { tags: ['newsletter'] },
    });
    expect(campaign.status).toBe(201);

    const dry = await call<{ id: string; status: string }>(
      'POST',
      `/v1/campaigns/${campaign.body.id}/runs`,
      key,
      {
        dry_run: true,
      },
    );
    expect(dry.status).toBe(202);
    expect((await call<Run>('GET', `/v1/runs/${dry.body.id}`, key)).body).toMatchObject({
      status: 'completed',
      counts: { targeted: CONTACTS, sent: 0 },
    });

    const started = await call<{ id: string; status: string }>(
      'POST',
      `/v1/campaigns/${campaign.body.id}/runs`,
      key,
      {},
      { 'idempotency-key': 'launch-run-1' },
    );
    expect(started.status).toBe(202);
    expect(started.body.status).toBe('queued');
    const runId = started.body.id;

    await sink.waitForDeliveries(CONTACTS);
    // The run completes once the ledger settles: observable only by asking.
    const run = await eventually(
      async () => {
        const res = await call<Run>('GET', `/v1/runs/${runId}`, key);
        return res.body.status === 'completed' ? res.body : undefined;
      },
      { timeoutMs: 30_000, what: 'run completed' },
    );
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
    expect(run.started_at).toEqual(expect.any(String));
    expect(run.finished_at).toEqual(expect.any(String));

    // Every contact once: 500 distinct delivery keys of this run, each answered once, all signed.
    expect(sink.delivered.size).toBe(CONTACTS);
    expect([...sink.delivered.keys()].every((k) => k.startsWith(`bc:${runId}:`))).toBe(true);
    expect([...sink.acceptedAnswers.values()].every((n) => n === 1)).toBe(true);
    expect(sink.badSignatures).toBe(0);
    const greeted = new Set([...sink.delivered.values()].map((d) => d.body.subject));
    expect(greeted.size).toBe(CONTACTS);
    expect(greeted.has('Hello Reader0')).toBe(true);

    const quota = await call<{
      windows: { window: string; limit: number; used: number; remaining: number }[];
    }>('GET', `/v1/sender-accounts/${account.body.id}/quota`, key);
    expect(quota.body.windows).toEqual([
      expect.objectContaining({ window: 'daily', limit: 1000, used: CONTACTS, remaining: 1000 - CONTACTS }),
    ]);

    // A replay of the start returns the same run and starts nothing new.
    const replay = await call<{ id: string }>(
      'POST',
      `/v1/campaigns/${campaign.body.id}/runs`,
      key,
      {},
      { 'idempotency-key': 'launch-run-1' },
    );
    expect(replay.body.id).toBe(runId);

    const queues = await call<{ data: { name: string; counts: Record<string, number> }[] }>(
      'GET',
      '/v1/admin/queues',
      key,
    );
    expect(queues.body.data.find((q) => q.name === 'runs')!.counts.completed).toBeGreaterThanOrEqual(1);
    expect(sink.delivered.size).toBe(CONTACTS);
  });

  it('serves Bull Board on the public port behind the platform key, never on the ops port', async () => {
    const auth = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
    expect((await fetch(`${api.publicUrl}/admin/queues`)).status).toBe(401);
    const board = await fetch(`${api.publicUrl}/admin/queues`, { headers: auth });
    expect(board.status).toBe(200);
    expect(board.headers.get('content-type')).toContain('text/html');
    const queues = await fetch(`${api.publicUrl}/admin/queues/api/queues`, { headers: auth });
    expect(((await queues.json()) as { queues: unknown[] }).queues).toHaveLength(QUEUE_NAMES.length);
    expect((await fetch(`${api.opsUrl}/admin/queues`, { headers: auth })).status).toBe(404);
  });
});
