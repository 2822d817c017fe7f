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
import { Client } from 'pg';

jest.setTimeout(180_000);

const SECRET = 'send-window-e2e-sink-secret-0123456789ab';
const CONTACTS = 40;

/** HH:MM (UTC) of an instant. */
const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/**
 * Send windows with real api and worker processes: deliveries due while the campaign's window
 * is closed wait (`deferred`, due at the opening, no attempt spent) and go out once it opens;
 * a campaign whose window is open sends at once.
 */
describe('send windows (api + worker)', () => {
  let db: TestDatabase;
  let pg: Client;
  let sink: WebhookSink;
  let api: HeraldProcess;
  let worker: HeraldProcess;
  let key: string;
  let account: string;

  beforeAll(async () => {
    [db, sink] = await Promise.all([createTestDatabase(), WebhookSink.start(SECRET)]);
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    const env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: testRedisPrefix(),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      API_RATE_LIMIT_PER_SECOND: '0',
    });
    [api, worker] = await Promise.all([HeraldProcess.start('api', env), HeraldProcess.start('worker', env)]);
    const tenant = await createTenant(api.publicUrl, TEST_ADMIN_KEY, 'Windows', 'UTC');
    key = tenant.key;
    account = (
      await call<{ id: string }>('POST', '/v1/sender-accounts', key, {
        name: 'Sink',
        channel: 'webhook',
        config: { url: sink.url, secret: SECRET },
        time_zone: 'UTC',
      })
    ).body.id;
    await call('POST', '/v1/contacts/import', key, [
      ...Array.from({ length: CONTACTS }, (_, i) => ({ email: `w${i}@example.test`, tags: ['later'] })),
      ...Array.from({ length: CONTACTS }, (_, i) => ({ email: `n${i}@example.test`, tags: ['now'] })),
    ]);
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await Promise.all([sink?.stop(), pg?.end()]);
    await db?.drop();
  });

  const call = <T>(method: string, path: string, key: string, body?: unknown) =>
    callApi<T>(api.publicUrl, method, path, key, body);

  const broadcast = async (tag: string, window: { start: string; end: string }) => {
    const campaign = await call<{ id: string }>('POST', '/v1/campaigns', key, {
      name: `Windowed ${tag}`,
      kind: 'broadcast',
      sender_account_id: account,
      steps: [{ body: 'Hello' }],
      audience: { tags: [tag] },
      send_window: { ...window, time_zone: 'UTC' },
    });
    expect(campaign.status).toBe(201);
    const run = await call<{ id: string }>('POST', `/v1/campaigns/${campaign.body.id}/runs`, key, {});
    expect(run.status).toBe(202);
    return run.body.id;
  };
  const ledger = (runId: string) =>
    pg
      .query<{ status: string; attempts: number; due_at: Date; sent_at: Date | null }>(
        'SELECT status, attempts, due_at, sent_at FROM deliveries WHERE run_id = $1',
        [runId],
      )
      .then((r) => r.rows);

  it('holds deliveries until the window opens, and sends at once inside an open one', async () => {
    // Opens at the next whole minute (at least 5 s away) and stays open two minutes.
    const opening = Math.ceil((Date.now() + 5_000) / 60_000) * 60_000;
    const later = await broadcast('later', { start: hhmm(opening), end: hhmm(opening + 120_000) });
    const now = await broadcast('now', { start: hhmm(Date.now() - 60_000), end: hhmm(Date.now() + 180_000) });

    const deferred = await eventually(
      async () => {
        const rows = await ledger(later);
        return rows.length === CONTACTS && rows.every((r) => r.status === 'deferred') ? rows : undefined;
      },
      { timeoutMs: 30_000, what: 'every delivery of the closed window deferred' },
    );
    expect(Date.now()).toBeLessThan(opening);
    // Due at the opening, and waiting spent no attempt.
    expect(new Set(deferred.map((r) => r.due_at.getTime()))).toEqual(new Set([opening]));
    expect(deferred.every((r) => r.attempts === 0)).toBe(true);
    // The open window's campaign is not held back meanwhile.
    await eventually(async () => (await ledger(now)).filter((r) => r.status === 'sent').length === CONTACTS, {
      timeoutMs: 30_000,
      what: 'the open window’s deliveries sent',
    });

    const sent = await eventually(
      async () => {
        const rows = await ledger(later);
        return rows.every((r) => r.status === 'sent') ? rows : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: 'the closed window’s deliveries sent after it opened' },
    );
    expect(sent.every((r) => r.sent_at!.getTime() >= opening)).toBe(true);
    expect(sink.delivered.size).toBe(2 * CONTACTS);
  });
});
