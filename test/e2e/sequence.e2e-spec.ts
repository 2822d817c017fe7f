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

const SECRET = 'sequence-sink-secret-0123456789abcdefgh';
const CONTACTS = 20;
const REPLIERS = 5;
/** Seconds each step waits after the previous one was sent (the first: after the enrollment). */
const DELAYS = [0, 3, 2];

type Enrollment = {
  id: string;
  contact_id: string;
  status: string;
  stop_reason: string | null;
  current_step: number;
};

/**
 * A 3-step sequence through the public API with real api, worker and beat processes: the beat's
 * ticker turns due steps into deliveries, the worker sends them to a loopback provider, and the
 * ledger trigger schedules each next step after its delay. A reply stops a contact's sequence.
 */
describe('a sequence through the API (api + worker + beat processes)', () => {
  let db: TestDatabase;
  let sink: WebhookSink;
  let processes: HeraldProcess[] = [];
  let api: HeraldProcess;

  beforeAll(async () => {
    [db, sink] = await Promise.all([createTestDatabase(), WebhookSink.start(SECRET)]);
    const env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: testRedisPrefix(),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      API_RATE_LIMIT_PER_SECOND: '0',
      BEAT_TICK_INTERVAL_MS: '200',
      BEAT_LEASE_TTL_MS: '2000',
      BEAT_LEASE_RENEW_MS: '500',
    });
    processes = await Promise.all([
      HeraldProcess.start('api', env),
      HeraldProcess.start('worker', env),
      HeraldProcess.start('beat', env),
    ]);
    api = processes[0]!;
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
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

  it('sends every step in order after its delay, and a reply stops the rest', async () => {
    const tenant = await createTenant(api.publicUrl, TEST_ADMIN_KEY, 'Sequencer', 'UTC');
    const key = tenant.key;
    const account = await call<{ id: string }>('POST', '/v1/sender-accounts', key, {
      name: 'Loopback sink',
      channel: 'webhook',
      config: { url: sink.url, secret: SECRET },
      time_zone: 'UTC',
    });
    expect(account.status).toBe(201);
    const imported = await call<{ created: number }>(
      'POST',
      '/v1/contacts/import',
      key,
      Array.from({ length: CONTACTS }, (_, i) => ({
        email: `lead${i}@example.test`,
        first_name: `Lead${i}`,
      })),
    );
    expect(imported.body.created).toBe(CONTACTS);
    const contacts = await call<{ data: { id: string; email: string }[] }>(
      'GET',
      '/v1/contacts?limit=100',
      key,
    );
    expect(contacts.body.data).toHaveLength(CONTACTS);

    const campaign = await call<{ id: string }>('POST', '/v1/campaigns', key, {
      name: 'Onboarding',
      kind: 'sequence',
      sender_account_id: account.body.id,
      steps: DELAYS.map((delay, i) => ({
        delay,
        subject: `Step ${i + 1} for {{ first_name }}`,
        body: `Hello {{ first_name }}, this is step ${i + 1}.`,
      })),
    });
    expect(campaign.status).toBe(201);
    const campaignId = campaign.body.id;

    const contactIds = contacts.body.data.map((c) => c.id);
    const enrolled = await call<{ enrolled: number; already_enrolled: number; not_found: string[] }>(
      'POST',
      `/v1/campaigns/${campaignId}/enrollments`,
      key,
      { contact_ids: contactIds },
      { 'idempotency-key': 'enroll-onboarding-1' },
    );
    expect(enrolled).toEqual({
      status: 200,
      body: { enrolled: CONTACTS, already_enrolled: 0, not_found: [] },
    });
    const list = await call<{ data: Enrollment[] }>(
      'GET',
      `/v1/campaigns/${campaignId}/enrollments?limit=100`,
      key,
    );
    const enrollmentOf = new Map(list.body.data.map((e) => [e.contact_id, e.id]));
    expect(enrollmentOf.size).toBe(CONTACTS);

    // The first REPLIERS contacts reply as soon as their first step arrives.
    const repliers = new Set(contactIds.slice(0, REPLIERS));
    const replied = new Map<string, number>();
    const replies = Promise.all(
      [...repliers].map(async (contactId) => {
        const firstKey = `sq:${enrollmentOf.get(contactId)}:0`;
        await eventually(() => Promise.resolve(sink.delivered.has(firstKey)), {
          intervalMs: 10,
          timeoutMs: 30_000,
          what: `first step of ${contactId}`,
        });
        const res = await call<{ enrollments_stopped: number; suppressed: boolean }>(
          'POST',
          '/v1/events',
          key,
          {
            type: 'reply',
            contact_id: contactId,
            campaign_id: campaignId,
            payload: { subject: 'Re: Step 1', text: 'Interested!' },
          },
        );
        replied.set(contactId, Date.now());
        return { contactId, ...res };
      }),
    );
    for (const reply of await replies) {
      expect(reply).toMatchObject({ status: 200, body: { enrollments_stopped: 1, suppressed: false } });
      // It came in before the second step was due.
      const first = sink.delivered.get(`sq:${enrollmentOf.get(reply.contactId)}:0`)!;
      expect(replied.get(reply.contactId)! - first.receivedAt).toBeLessThan(DELAYS[1]! * 1000);
    }

    const others = contactIds.filter((id) => !repliers.has(id));
    await sink.waitForDeliveries(REPLIERS + others.length * DELAYS.length);
    const completed = await eventually(
      async () => {
        const res = await call<{ data: Enrollment[] }>(
          'GET',
          `/v1/campaigns/${campaignId}/enrollments?status=completed&limit=100`,
          key,
        );
        return res.body.data.length === others.length ? res.body.data : undefined;
      },
      { timeoutMs: 30_000, what: 'every other enrollment completed' },
    );
    expect(completed.every((e) => e.current_step === DELAYS.length)).toBe(true);
    expect(new Set(completed.map((e) => e.contact_id))).toEqual(new Set(others));

    // Everyone else: steps 1, 2, 3 in order, each at least its delay after the previous one.
    for (const contactId of others) {
      const enrollment = enrollmentOf.get(contactId)!;
      const received = DELAYS.map((_, step) => sink.delivered.get(`sq:${enrollment}:${step}`));
      expect(received.every((d) => d !== undefined)).toBe(true);
      received.forEach((d, step) => {
        expect(d!.body).toMatchObject({
          campaign_id: campaignId,
          run_id: null,
          contact: { id: contactId },
          subject: `Step ${step + 1} for ${String((d!.body.contact as { first_name: string }).first_name)}`,
        });
        if (step > 0) {
          const gap = d!.receivedAt - received[step - 1]!.receivedAt;
          expect({ contactId, step, longEnough: gap >= DELAYS[step]! * 1000 - 5 }).toEqual({
            contactId,
            step,
            longEnough: true,
          });
        }
      });
    }

    // The repliers: their sequence is `replied`, and their later steps were never sent (their
    // second step was due DELAYS[1] s after the first: well past by now).
    const repliedList = await call<{ data: Enrollment[] }>(
      'GET',
      `/v1/campaigns/${campaignId}/enrollments?status=replied`,
      key,
    );
    expect(new Set(repliedList.body.data.map((e) => e.contact_id))).toEqual(repliers);
    // current_step is 1, or 0 when the reply was recorded before the worker had marked step 1 sent.
    expect(repliedList.body.data.every((e) => e.stop_reason === 'reply' && e.current_step <= 1)).toBe(true);
    for (const contactId of repliers) {
      const enrollment = enrollmentOf.get(contactId)!;
      expect(sink.delivered.has(`sq:${enrollment}:0`)).toBe(true);
      expect(sink.delivered.has(`sq:${enrollment}:1`)).toBe(false);
      expect(sink.delivered.has(`sq:${enrollment}:2`)).toBe(false);
    }

    // Each delivery key reached the provider once; nothing else was sent.
    expect(sink.delivered.size).toBe(REPLIERS + others.length * DELAYS.length);
    expect([...sink.acceptedAnswers.values()].every((n) => n === 1)).toBe(true);
    expect(sink.badSignatures).toBe(0);

    // A replay of the enrollment answers the first response and enrolls nobody again.
    const replay = await call<{ enrolled: number }>(
      'POST',
      `/v1/campaigns/${campaignId}/enrollments`,
      key,
      { contact_ids: contactIds },
      { 'idempotency-key': 'enroll-onboarding-1' },
    );
    expect(replay.body.enrolled).toBe(CONTACTS);
    const again = await call<{ enrolled: number; already_enrolled: number }>(
      'POST',
      `/v1/campaigns/${campaignId}/enrollments`,
      key,
      { contact_ids: contactIds },
    );
    expect(again.body).toMatchObject({ enrolled: 0, already_enrolled: CONTACTS });
    expect(sink.delivered.size).toBe(REPLIERS + others.length * DELAYS.length);
  });
});
