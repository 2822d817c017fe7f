import { hashTaggedPrefix } from '@herald/queues';
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
import { Queue, QueueEvents } from 'bullmq';
import { Client } from 'pg';

jest.setTimeout(240_000);

const SECRET = 'schedules-e2e-sink-secret-0123456789abcdef';
const CONTACTS = 10_000;
const VIPS = 60;
const TENANT_ZONE = 'Europe/Paris';
/** Contacts' zones (null: the tenant's), from UTC−10 to UTC+13, with a +05:45 one. */
const ZONES = [
  null,
  'Pacific/Honolulu',
  'America/Los_Angeles',
  'America/New_York',
  'America/Sao_Paulo',
  'Europe/London',
  'Asia/Kathmandu',
  'Asia/Tokyo',
  'Pacific/Auckland',
];

/** The local MM-DD of an instant in a zone (one formatter per zone: building them is slow). */
const formatters = new Map<string, Intl.DateTimeFormat>();
function monthDay(instant: number, zone: string): string {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, month: '2-digit', day: '2-digit' });
    formatters.set(zone, format);
  }
  const parts = format.formatToParts(instant);
  return `${parts.find((p) => p.type === 'month')!.value}-${parts.find((p) => p.type === 'day')!.value}`;
}

/**
 * Campaigns that run themselves, with real api, worker and two beat processes: a birthday
 * campaign fired by its schedule greets exactly the contacts whose birthday it is in their own
 * zone at the slot — once, however often it fires that day — and a scheduled broadcast fires
 * once although the leading beat is killed just before its slot.
 */
describe('scheduled campaigns (api + worker + two beats)', () => {
  let db: TestDatabase;
  let pg: Client;
  let sink: WebhookSink;
  let api: HeraldProcess;
  let worker: HeraldProcess;
  let beats: HeraldProcess[];
  let runs: Queue;
  let events: QueueEvents;

  beforeAll(async () => {
    [db, sink] = await Promise.all([createTestDatabase(), WebhookSink.start(SECRET)]);
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    const prefix = testRedisPrefix();
    const env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: prefix,
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      API_RATE_LIMIT_PER_SECOND: '0',
      BEAT_LEASE_TTL_MS: '3000',
      BEAT_LEASE_RENEW_MS: '1000',
      BEAT_SWEEP_INTERVAL_MS: '500',
      BEAT_TICK_INTERVAL_MS: '200',
    });
    [api, worker, ...beats] = await Promise.all([
      HeraldProcess.start('api', env),
      HeraldProcess.start('worker', env),
      HeraldProcess.start('beat', env),
      HeraldProcess.start('beat', env),
    ]);
    runs = new Queue('runs', { connection: { url: testRedisUrl() }, prefix: hashTaggedPrefix(prefix) });
    events = new QueueEvents('runs', {
      connection: { url: testRedisUrl() },
      prefix: hashTaggedPrefix(prefix),
    });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop(), ...(beats ?? []).map((b) => b.stop())]);
    await Promise.all([runs?.close(), events?.close(), sink?.stop(), pg?.end()]);
    await db?.drop();
  });

  const call = <T>(method: string, path: string, key: string, body?: unknown) =>
    callApi<T>(api.publicUrl, method, path, key, body);
  const runsOf = (campaignId: string) =>
    pg
      .query<{ id: string; trigger: string; status: string; targeted: number }>(
        'SELECT id, trigger, status, targeted FROM campaign_runs WHERE campaign_id = $1 ORDER BY created_at',
        [campaignId],
      )
      .then((r) => r.rows);
  const delivered = (prefix: string) => [...sink.delivered.keys()].filter((k) => k.startsWith(prefix));

  it('greets exactly today’s birthdays in each contact’s zone, once, and survives the leader’s death', async () => {
    const tenant = await createTenant(api.publicUrl, TEST_ADMIN_KEY, 'Birthdays', TENANT_ZONE);
    const key = tenant.key;
    const account = await call<{ id: string }>('POST', '/v1/sender-accounts', key, {
      name: 'Sink',
      channel: 'webhook',
      config: { url: sink.url, secret: SECRET },
      time_zone: 'UTC',
    });
    expect(account.status).toBe(201);

    // The slot: the next whole minute at least 30 s away (its schedule must be registered first).
    const slot = Math.ceil((Date.now() + 30_000) / 60_000) * 60_000;
    const at = new Date(slot).toISOString().slice(11, 16);

    // Birthdays within three days of the slot's UTC date for two thirds of the contacts (so
    // zones decide who is in), spread over the year for the rest.
    const contacts = Array.from({ length: CONTACTS }, (_, i) => {
      const offsetDays = i % 3 === 0 ? (i * 7) % 365 : (i % 7) - 3;
      const md = monthDay(slot + offsetDays * 86_400_000, 'UTC');
      return {
        email: `person${i}@example.test`,
        first_name: `Person${i}`,
        birth_date: `${1960 + (i % 45)}-${md}`,
        time_zone: ZONES[i % ZONES.length],
        tags: i < VIPS ? ['vip'] : [],
      };
    });
    const imported = await call<{ created: number; failed: number }>(
      'POST',
      '/v1/contacts/import',
      key,
      contacts,
    );
    expect(imported.body).toMatchObject({ created: CONTACTS, failed: 0 });
    const expected = new Set(
      contacts
        .filter((c) => c.birth_date.slice(5) === monthDay(slot, c.time_zone ?? TENANT_ZONE))
        .map((c) => c.email),
    );
    expect(expected.size).toBeGreaterThan(500);

    const birthday = await call<{ id: string }>('POST', '/v1/campaigns', key, {
      name: 'Happy birthday',
      kind: 'birthday',
      sender_account_id: account.body.id,
      steps: [{ subject: 'Happy birthday {{ first_name }}', body: 'Many happy returns, {{ first_name }}!' }],
      schedule: { at, time_zone: 'UTC' },
    });
    const broadcast = await call<{ id: string }>('POST', '/v1/campaigns', key, {
      name: 'VIP digest',
      kind: 'broadcast',
      sender_account_id: account.body.id,
      steps: [{ body: 'Your digest, {{ first_name }}' }],
      audience: { tags: ['vip'] },
      schedule: { at, time_zone: 'UTC' },
    });
    expect([birthday.status, broadcast.status]).toEqual([201, 201]);

    // The leader registers both job schedulers; then it dies before the slot.
    await eventually(
      async () => {
        const keys = (await runs.getJobSchedulers(0, -1)).map((s) => s.key);
        expect(keys).toEqual(
          expect.arrayContaining([`campaign-${birthday.body.id}`, `campaign-${broadcast.body.id}`]),
        );
        return true;
      },
      { timeoutMs: 20_000, what: 'both job schedulers registered' },
    );
    const leader = beats.find((b) => b.lines.some((l) => l.msg === 'beat is now the leader'))!;
    const standby = beats.find((b) => b !== leader)!;
    expect(Date.now()).toBeLessThan(slot);
    leader.signal('SIGKILL');
    await leader.exited;
    await standby.waitFor((l) => l.msg === 'beat is now the leader', 10_000);

    // The slot passes: one run each, fired by the schedule.
    await eventually(
      async () => {
        const [bdRuns, bcRuns] = await Promise.all([runsOf(birthday.body.id), runsOf(broadcast.body.id)]);
        expect(bdRuns).toEqual([expect.objectContaining({ trigger: 'schedule', status: 'completed' })]);
        expect(bcRuns).toEqual([expect.objectContaining({ trigger: 'schedule', status: 'completed' })]);
        return true;
      },
      { timeoutMs: 150_000, intervalMs: 250, what: 'one completed scheduled run per campaign' },
    );
    expect(Date.now()).toBeGreaterThanOrEqual(slot);

    const greeted = delivered(`bd:${birthday.body.id}:`).map((k) => sink.delivered.get(k)!.body);
    const greetedEmails = new Set(greeted.map((b) => (b.contact as { email: string }).email));
    expect(greeted).toHaveLength(expected.size);
    expect(greetedEmails).toEqual(expected);
    // One greeting per campaign, contact and local year: the key says which year.
    const year = new Date(slot).getUTCFullYear();
    expect(delivered(`bd:${birthday.body.id}:`).every((k) => k.endsWith(`:${year}`))).toBe(true);
    expect(delivered(`bc:`)).toHaveLength(VIPS);
    expect(sink.replays).toBe(0);

    // Firing again the same day sends nothing new: the scheduler's slot once more (a duplicate),
    // and a run by hand (whose keys are already in the ledger).
    const again = await runs.add(
      'campaigns.fire',
      {
        payload: {
          tenant_id: (await runsOfTenant(birthday.body.id))!,
          campaign_id: birthday.body.id,
          slot: new Date(slot).toISOString(),
        },
        trace: {},
      },
      { jobId: `fire-again-${birthday.body.id}` },
    );
    expect(await again.waitUntilFinished(events, 30_000)).toEqual({ outcome: 'duplicate' });
    const manual = await call<{ id: string }>('POST', `/v1/campaigns/${birthday.body.id}/runs`, key, {});
    expect(manual.status).toBe(202);
    await eventually(
      async () => {
        expect((await runsOf(birthday.body.id)).map((r) => [r.trigger, r.status, r.targeted])).toEqual([
          ['schedule', 'completed', expected.size],
          ['manual', 'completed', 0],
        ]);
        return true;
      },
      { timeoutMs: 30_000, what: 'the manual birthday run completed' },
    );
    expect(delivered(`bd:${birthday.body.id}:`)).toHaveLength(expected.size);

    const metrics = await (await fetch(`${worker.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/herald_schedule_fires_total\{kind="birthday",outcome="fired"\} 1/);
    expect(metrics).toMatch(/herald_schedule_fires_total\{kind="birthday",outcome="duplicate"\} 1/);
  });

  const runsOfTenant = async (campaignId: string) =>
    (await pg.query<{ tenant_id: string }>('SELECT tenant_id FROM campaigns WHERE id = $1', [campaignId]))
      .rows[0]?.tenant_id;
});
