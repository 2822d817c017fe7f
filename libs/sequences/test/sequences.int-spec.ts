import { CampaignStateError } from '@herald/campaigns';
import { SuppressionsRepository, UnknownContactError } from '@herald/contacts';
import { DeliveryKeys } from '@herald/deliveries';
import type { JobProducer } from '@herald/queues';
import type { HeraldLogger } from '@herald/telemetry';
import { createTestDatabase, type TestDatabase } from '@herald/testing';
import type { Clock } from '@herald/time';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  EnrollmentsRepository,
  EnrollmentTicker,
  EventsService,
  sequenceEventSchema,
  UnknownCampaignError,
  type SequenceEvent,
} from '../src';

type Enrollment = {
  id: string;
  contact_id: string;
  status: string;
  stop_reason: string | null;
  current_step: number;
  next_due_at: Date | null;
  finished_at: Date | null;
};
type Delivery = { id: string; delivery_key: string; step: number; status: string; last_error: string | null };

/**
 * Enrollments, the ticker, the ledger trigger and events on a real Postgres, below the API:
 * the repositories are built on a plain DataSource and the queue is a recording fake.
 */
describe('sequences (Postgres)', () => {
  let database: TestDatabase;
  let ds: DataSource;
  let repo: EnrollmentsRepository;
  let ticker: EnrollmentTicker;
  let events: EventsService;
  /** The ticker's clock: real time, moved ahead by `ahead` ms when a test says so. */
  let ahead = 0;
  const clock: Clock = { now: () => new Date(Date.now() + ahead), nowMs: () => Date.now() + ahead };
  const enqueued: { tenant_id: string; delivery_id: string }[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    ds = new DataSource({ type: 'postgres', url: database.url });
    await ds.initialize();
    repo = new EnrollmentsRepository(ds);
    const producer = {
      enqueueBulk: (_name: string, payloads: { tenant_id: string; delivery_id: string }[]) => {
        enqueued.push(...payloads);
        return Promise.resolve();
      },
    } as unknown as JobProducer;
    const logger = { debug: () => undefined, info: () => undefined } as unknown as HeraldLogger;
    ticker = new EnrollmentTicker(ds, producer, logger, clock);
    events = new EventsService(ds, new SuppressionsRepository(ds));
  });
  afterAll(async () => {
    await ds?.destroy();
    await database?.drop();
  });
  beforeEach(() => {
    enqueued.length = 0;
    ahead = 0;
  });

  const sql = <T>(text: string, params: unknown[] = []) => ds.query<T[]>(text, params);

  /** A tenant with `contacts` active contacts (c0…), a webhook account and a 3-step sequence. */
  async function tenant(
    options: { contacts?: number; delays?: (number | undefined)[]; kind?: string } = {},
  ): Promise<{ id: string; campaign: string; contacts: string[]; account: string }> {
    const id = randomUUID();
    const account = randomUUID();
    const campaign = randomUUID();
    await sql(`INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'T', 'UTC')`, [id]);
    const contacts = await sql<{ id: string }>(
      `INSERT INTO contacts (tenant_id, id, email, tags, created_at)
       SELECT $1, uuidv7(), 'c' || i || '@example.test', CASE WHEN i % 2 = 0 THEN ARRAY['even'] ELSE ARRAY['odd'] END, now()
         FROM generate_series(0, $2::int - 1) AS i ORDER BY i
       RETURNING id`,
      [id, options.contacts ?? 4],
    );
    await sql(
      `INSERT INTO sender_accounts (tenant_id, id, name, channel, credentials, time_zone) VALUES ($1, $2, 'A', 'webhook', 'x', 'UTC')`,
      [id, account],
    );
    // By default step 0 waits an hour: only the tests that tick make steps due.
    const delays = options.delays ?? [3600, 60, 120];
    await sql(
      `INSERT INTO campaigns (tenant_id, id, name, kind, sender_account_id, steps) VALUES ($1, $2, 'Seq', $3, $4, $5)`,
      [
        id,
        campaign,
        options.kind ?? 'sequence',
        account,
        JSON.stringify(
          delays.map((d, i) => ({ body: `step ${i}`, ...(d === undefined ? {} : { delay_seconds: d }) })),
        ),
      ],
    );
    return { id, campaign, contacts: contacts.map((c) => c.id).sort(), account };
  }

  const enroll = (
    tenantId: string,
    campaignId: string,
    request: Parameters<EnrollmentsRepository['enroll']>[3],
  ) => ds.transaction((m) => repo.enroll(m, tenantId, campaignId, request));
  const enrollments = (tenantId: string) =>
    sql<Enrollment>(`SELECT * FROM enrollments WHERE tenant_id = $1 ORDER BY contact_id`, [tenantId]);
  const deliveries = (tenantId: string) =>
    sql<Delivery>(`SELECT * FROM deliveries WHERE tenant_id = $1 ORDER BY delivery_key`, [tenantId]);
  /** Makes every active enrollment of the tenant due now. */
  const makeDue = (tenantId: string) =>
    sql(
      `UPDATE enrollments SET next_due_at = now() - interval '1 second' WHERE tenant_id = $1 AND status = 'active' AND next_due_at IS NOT NULL`,
      [tenantId],
    );
  /** What the pipeline does when a send succeeds (claim, then sent). */
  const markSent = (tenantId: string, ids: string[]) =>
    sql(
      `UPDATE deliveries SET status = 'sent', sent_at = now(), updated_at = now() WHERE tenant_id = $1 AND id = ANY ($2::uuid[])`,
      [tenantId, ids],
    );
  const event = (input: unknown): SequenceEvent => sequenceEventSchema.parse(input);
  /** Ticks (the ticker works across tenants) and answers how many of this tenant's steps it enqueued. */
  const tick = async (tenantId: string, limit = 1000) => {
    enqueued.length = 0;
    await ticker.tick(limit);
    return enqueued.filter((j) => j.tenant_id === tenantId).length;
  };

  it('enrolls by ids: only active contacts of the tenant, unknown ones listed, re-enrolling is a no-op', async () => {
    const t = await tenant({ contacts: 4, delays: [600, 60] });
    const other = await tenant({ contacts: 1 });
    await sql(`UPDATE contacts SET status = 'unsubscribed' WHERE id = $1`, [t.contacts[3]]);
    const unknown = randomUUID();
    const result = await enroll(t.id, t.campaign, {
      contactIds: [t.contacts[0]!, t.contacts[1]!, t.contacts[3]!, other.contacts[0]!, unknown],
    });
    expect(result).toEqual({
      enrolled: 2,
      alreadyEnrolled: 0,
      notFound: expect.arrayContaining([t.contacts[3], other.contacts[0], unknown]) as string[],
    });
    expect(result!.notFound).toHaveLength(3);
    const rows = await enrollments(t.id);
    expect(rows.map((r) => r.contact_id)).toEqual([t.contacts[0], t.contacts[1]]);
    for (const r of rows) {
      expect(r).toMatchObject({ status: 'active', current_step: 0, stop_reason: null });
      // Step 0 waits its own delay (600 s) from the enrollment.
      const wait = r.next_due_at!.getTime() - Date.now();
      expect(wait).toBeGreaterThan(590_000);
      expect(wait).toBeLessThanOrEqual(601_000);
    }
    expect(await enroll(t.id, t.campaign, { contactIds: [t.contacts[0]!, t.contacts[2]!] })).toEqual({
      enrolled: 1,
      alreadyEnrolled: 1,
      notFound: [],
    });
    expect(await enrollments(other.id)).toEqual([]);
  });

  it('enrolls by filter in one statement, idempotently', async () => {
    const t = await tenant({ contacts: 10 });
    await sql(`UPDATE contacts SET status = 'bounced' WHERE id = $1`, [t.contacts[0]]);
    expect(await enroll(t.id, t.campaign, { filter: { tags: ['even'] } })).toEqual({
      enrolled: 4, // c0 is even but bounced
      alreadyEnrolled: 0,
      notFound: [],
    });
    expect(await enroll(t.id, t.campaign, { filter: {} })).toEqual({
      enrolled: 5,
      alreadyEnrolled: 4,
      notFound: [],
    });
    expect(await enroll(t.id, t.campaign, { filter: { q: 'c3@' } })).toEqual({
      enrolled: 0,
      alreadyEnrolled: 1,
      notFound: [],
    });
    expect(await enrollments(t.id)).toHaveLength(9);
  });

  it('enrolls 100,000 contacts by filter', async () => {
    const t = await tenant({ contacts: 100_000 });
    await sql('ANALYZE contacts');
    const started = Date.now();
    expect(await enroll(t.id, t.campaign, { filter: {} })).toEqual({
      enrolled: 100_000,
      alreadyEnrolled: 0,
      notFound: [],
    });
    expect(Date.now() - started).toBeLessThan(60_000);
    const [row] = await sql<{ n: string }>(`SELECT count(*) AS n FROM enrollments WHERE tenant_id = $1`, [
      t.id,
    ]);
    expect(Number(row!.n)).toBe(100_000);
    await sql(`DELETE FROM enrollments WHERE tenant_id = $1`, [t.id]); // keep later ticks small
  }, 180_000);

  it('refuses other kinds, archived campaigns, and campaigns of another tenant', async () => {
    const broadcast = await tenant({ kind: 'broadcast', delays: [undefined] });
    await expect(enroll(broadcast.id, broadcast.campaign, { filter: {} })).rejects.toBeInstanceOf(
      CampaignStateError,
    );
    const t = await tenant();
    await sql(`UPDATE campaigns SET status = 'archived' WHERE id = $1`, [t.campaign]);
    await expect(enroll(t.id, t.campaign, { filter: {} })).rejects.toBeInstanceOf(CampaignStateError);
    const other = await tenant();
    expect(await enroll(other.id, t.campaign, { filter: {} })).toBeUndefined();
    expect(await enrollments(t.id)).toEqual([]);
  });

  it('ticks due steps into deliveries; the trigger advances each step after its delay and completes', async () => {
    const t = await tenant({ contacts: 2, delays: [undefined, 60, 120] });
    await enroll(t.id, t.campaign, { contactIds: t.contacts });
    // Step 0 has no delay: due at once.
    expect(await tick(t.id)).toBe(2);
    let rows = await deliveries(t.id);
    expect(rows.map((d) => d.delivery_key).sort()).toEqual(
      (await enrollments(t.id)).map((e) => DeliveryKeys.sequence(e.id, 0)).sort(),
    );
    expect(
      enqueued
        .filter((j) => j.tenant_id === t.id)
        .map((j) => j.delivery_id)
        .sort(),
    ).toEqual(rows.map((d) => d.id).sort());
    expect((await enrollments(t.id)).every((e) => e.next_due_at === null && e.current_step === 0)).toBe(true);
    // Nothing is due while the step is in flight.
    expect(await tick(t.id)).toBe(0);

    await markSent(
      t.id,
      rows.map((d) => d.id),
    );
    const [sent] = await sql<{ sent_at: Date }>(
      `SELECT max(sent_at) AS sent_at FROM deliveries WHERE tenant_id = $1`,
      [t.id],
    );
    for (const e of await enrollments(t.id)) {
      expect(e).toMatchObject({ status: 'active', current_step: 1 });
      expect(e.next_due_at!.getTime() - sent!.sent_at.getTime()).toBe(60_000);
    }
    expect(await tick(t.id)).toBe(0); // not due for a minute
    expect(await ticker.lagSeconds()).toBe(0);
    // By the ticker's clock a minute later, the steps are due.
    ahead = 61_000;
    expect(await tick(t.id)).toBe(2);
    await sql(`DELETE FROM deliveries WHERE tenant_id = $1 AND step = 1`, [t.id]);
    await sql(`UPDATE enrollments SET next_due_at = $2 WHERE tenant_id = $1`, [
      t.id,
      new Date(sent!.sent_at.getTime() + 60_000),
    ]);
    ahead = 0;

    await makeDue(t.id);
    expect(await ticker.lagSeconds()).toBeGreaterThanOrEqual(1);
    expect(await tick(t.id)).toBe(2);
    rows = (await deliveries(t.id)).filter((d) => d.step === 1);
    expect(rows).toHaveLength(2);
    await markSent(
      t.id,
      rows.map((d) => d.id),
    );
    for (const e of await enrollments(t.id)) {
      expect(e.current_step).toBe(2);
      expect(e.next_due_at!.getTime() - Date.now()).toBeGreaterThan(110_000);
    }
    await makeDue(t.id);
    expect(await tick(t.id, 1)).toBe(1); // the limit holds
    expect(await tick(t.id)).toBe(1);
    await markSent(
      t.id,
      (await deliveries(t.id)).filter((d) => d.step === 2).map((d) => d.id),
    );
    for (const e of await enrollments(t.id)) {
      expect(e).toMatchObject({ status: 'completed', current_step: 3, next_due_at: null });
      expect(e.finished_at).not.toBeNull();
    }
    expect(await deliveries(t.id)).toHaveLength(6);
    expect(new Set((await deliveries(t.id)).map((d) => d.delivery_key)).size).toBe(6);
    const counts = await ticker.countsByState();
    expect(counts.completed).toBeGreaterThanOrEqual(2);
  });

  it('stops an enrollment whose step failed, was skipped or cancelled', async () => {
    const t = await tenant({ contacts: 3, delays: [undefined, 10] });
    await enroll(t.id, t.campaign, { contactIds: t.contacts });
    await tick(t.id);
    const rows = await deliveries(t.id);
    const statuses = ['failed', 'skipped', 'cancelled'];
    for (const [i, d] of rows.entries())
      await sql(`UPDATE deliveries SET status = $2 WHERE id = $1`, [d.id, statuses[i]]);
    const byDelivery = new Map(rows.map((d, i) => [d.delivery_key.split(':')[1], statuses[i]]));
    for (const e of await enrollments(t.id)) {
      expect(e).toMatchObject({ status: 'stopped', stop_reason: `delivery ${byDelivery.get(e.id)}` });
      expect(e.next_due_at).toBeNull();
    }
  });

  it('leaves enrollments of a paused campaign waiting, and stops those of an archived one', async () => {
    const t = await tenant({ contacts: 2, delays: [undefined, 60] });
    await enroll(t.id, t.campaign, { contactIds: t.contacts });
    await sql(`UPDATE campaigns SET status = 'paused' WHERE id = $1`, [t.campaign]);
    expect(await tick(t.id)).toBe(0);
    expect((await enrollments(t.id)).every((e) => e.status === 'active' && e.next_due_at !== null)).toBe(
      true,
    );
    await sql(`UPDATE campaigns SET status = 'active' WHERE id = $1`, [t.campaign]);
    expect(await tick(t.id)).toBe(2);
    await markSent(
      t.id,
      (await deliveries(t.id)).map((d) => d.id),
    );
    await sql(`UPDATE campaigns SET status = 'archived' WHERE id = $1`, [t.campaign]);
    await makeDue(t.id);
    expect(await tick(t.id)).toBe(0);
    expect((await enrollments(t.id)).map((e) => [e.status, e.stop_reason])).toEqual([
      ['stopped', 'campaign archived'],
      ['stopped', 'campaign archived'],
    ]);
  });

  it('removes a contact: stopped, its waiting delivery cancelled', async () => {
    const t = await tenant({ contacts: 2, delays: [undefined, 60] });
    await enroll(t.id, t.campaign, { contactIds: t.contacts });
    await tick(t.id);
    expect(await repo.remove(t.id, t.campaign, t.contacts[0]!)).toBe('removed');
    expect(await repo.remove(t.id, t.campaign, t.contacts[0]!)).toBe('already-finished');
    expect(await repo.remove(t.id, t.campaign, randomUUID())).toBe('not-enrolled');
    const other = await tenant();
    expect(await repo.remove(other.id, t.campaign, t.contacts[1]!)).toBe('no-campaign');
    const [removed, kept] = await enrollments(t.id);
    expect(removed).toMatchObject({ status: 'stopped', stop_reason: 'removed' });
    expect(kept).toMatchObject({ status: 'active' });
    const ds_ = await deliveries(t.id);
    expect(ds_.map((d) => d.status).sort()).toEqual(['cancelled', 'pending']);
    expect(ds_.find((d) => d.status === 'cancelled')!.last_error).toBe('enrollment removed');
  });

  it.each([
    ['reply', 'replied', false, 'active'],
    ['bounce', 'stopped', true, 'bounced'],
    ['unsubscribe', 'stopped', true, 'unsubscribed'],
  ] as const)(
    'a %s stops the contact’s sequences and cancels their waiting steps',
    async (type, status, suppressed, contactStatus) => {
      const t = await tenant({ contacts: 2, delays: [undefined, 60] });
      const second = randomUUID();
      await sql(
        `INSERT INTO campaigns (tenant_id, id, name, kind, sender_account_id, steps) VALUES ($1, $2, 'Seq 2', 'sequence', $3, '[{"body":"x"}]')`,
        [t.id, second, t.account],
      );
      await enroll(t.id, t.campaign, { contactIds: t.contacts });
      await enroll(t.id, second, { contactIds: t.contacts });
      await tick(t.id);
      const [target] = t.contacts;
      const outcome = await events.record(
        t.id,
        event({ type, email: 'C0@example.test', occurred_at: '2026-01-02T03:04:05Z' }),
      );
      expect(outcome).toEqual({
        interactionId: expect.any(String) as string,
        suppressed,
        enrollmentsStopped: 2,
        // Its steps were never sent: a reply has no delivery to be attributed to.
        deliveryId: null,
        duplicate: false,
      });
      const rows = await enrollments(t.id);
      expect(rows.filter((e) => e.contact_id === target).map((e) => [e.status, e.stop_reason])).toEqual([
        [status, type],
        [status, type],
      ]);
      expect(rows.filter((e) => e.contact_id !== target).every((e) => e.status === 'active')).toBe(true);
      const ledger = await sql<{ contact_id: string; status: string; last_error: string | null }>(
        `SELECT contact_id, status, last_error FROM deliveries WHERE tenant_id = $1`,
        [t.id],
      );
      expect(ledger.filter((d) => d.contact_id === target)).toEqual([
        { contact_id: target, status: 'cancelled', last_error: `stopped by ${type}` },
        { contact_id: target, status: 'cancelled', last_error: `stopped by ${type}` },
      ]);
      expect(ledger.filter((d) => d.contact_id !== target).every((d) => d.status === 'pending')).toBe(true);
      const [interaction] = await sql<{ type: string; created_at: Date; payload: object }>(
        `SELECT type, created_at, payload FROM interactions WHERE tenant_id = $1 AND id = $2`,
        [t.id, outcome.interactionId],
      );
      expect(interaction!.type).toBe(type);
      expect(interaction!.created_at.toISOString()).toBe('2026-01-02T03:04:05.000Z');
      const suppressions = await sql<{ email: string; reason: string }>(
        `SELECT email, reason FROM suppressions WHERE tenant_id = $1`,
        [t.id],
      );
      expect(suppressions).toEqual(suppressed ? [{ email: 'c0@example.test', reason: type }] : []);
      const contactRows = await sql<{ id: string; status: string }>(
        `SELECT id, status FROM contacts WHERE tenant_id = $1 ORDER BY id`,
        [t.id],
      );
      expect(contactRows.find((c) => c.id === target)?.status).toBe(contactStatus);
      expect(contactRows.filter((c) => c.id !== target).every((c) => c.status === 'active')).toBe(true);
      // Again: nothing left to stop; the suppression is not duplicated.
      expect(await events.record(t.id, event({ type, contact_id: target }))).toMatchObject({
        suppressed,
        enrollmentsStopped: 0,
      });
      expect(await sql(`SELECT 1 FROM suppressions WHERE tenant_id = $1`, [t.id])).toHaveLength(
        suppressed ? 1 : 0,
      );
    },
  );

  it('a reply naming a campaign stops only that campaign’s sequence', async () => {
    const t = await tenant({ contacts: 1 });
    const second = randomUUID();
    await sql(
      `INSERT INTO campaigns (tenant_id, id, name, kind, sender_account_id, steps) VALUES ($1, $2, 'Seq 2', 'sequence', $3, '[{"body":"x"}]')`,
      [t.id, second, t.account],
    );
    await enroll(t.id, t.campaign, { contactIds: t.contacts });
    await enroll(t.id, second, { contactIds: t.contacts });
    expect(
      await events.record(t.id, event({ type: 'reply', contact_id: t.contacts[0], campaign_id: t.campaign })),
    ).toMatchObject({ enrollmentsStopped: 1 });
    const rows = await sql<{ campaign_id: string; status: string }>(
      `SELECT campaign_id, status FROM enrollments WHERE tenant_id = $1`,
      [t.id],
    );
    expect(Object.fromEntries(rows.map((r) => [r.campaign_id, r.status]))).toEqual({
      [t.campaign]: 'replied',
      [second]: 'active',
    });
  });

  it('events never reach another tenant’s contacts or campaigns', async () => {
    const a = await tenant({ contacts: 1 });
    const b = await tenant({ contacts: 1 });
    await enroll(a.id, a.campaign, { contactIds: a.contacts });
    await expect(
      events.record(b.id, event({ type: 'unsubscribe', contact_id: a.contacts[0] })),
    ).rejects.toEqual(new UnknownContactError('contact_id'));
    await expect(
      events.record(b.id, event({ type: 'bounce', email: 'nobody@example.test' })),
    ).rejects.toMatchObject({
      field: 'email',
    });
    await expect(
      events.record(b.id, event({ type: 'reply', contact_id: b.contacts[0], campaign_id: a.campaign })),
    ).rejects.toBeInstanceOf(UnknownCampaignError);
    expect((await enrollments(a.id)).map((e) => e.status)).toEqual(['active']);
    expect(
      await sql(`SELECT 1 FROM interactions WHERE tenant_id = ANY ($1::uuid[])`, [[a.id, b.id]]),
    ).toEqual([]);
    expect(await repo.page(b.id, a.campaign, {}, null, 10)).toBeUndefined();
  });

  it('validates events: one target, the payload of the type, no future dates', () => {
    const problems = (input: unknown) => {
      const result = sequenceEventSchema.safeParse(input);
      return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(problems({ type: 'reply' })).toEqual(['contact_id: give exactly one of contact_id or email']);
    expect(problems({ type: 'reply', contact_id: randomUUID(), email: 'a@b.co' })).toHaveLength(1);
    expect(problems({ type: 'click', email: 'a@b.co' })[0]).toMatch(/^type: must be one of/);
    expect(problems({ type: 'bounce', email: 'a@b.co', payload: { kind: 'medium' } })).toEqual([
      'payload.kind: must be hard or soft',
    ]);
    expect(problems({ type: 'reply', email: 'a@b.co', payload: { extra: 1 } })).toEqual([
      'payload.extra: is not a known field',
    ]);
    expect(problems({ type: 'reply', email: 'a@b.co', payload: { text: 'a\u0000b' } })).toEqual([
      'payload: must not contain NUL characters',
    ]);
    expect(problems({ type: 'reply', email: 'a@b.co', occurred_at: '2999-01-01T00:00:00Z' })).toEqual([
      'occurred_at: must not be in the future',
    ]);
    expect(sequenceEventSchema.parse({ type: 'unsubscribe', email: 'A@B.co' })).toMatchObject({
      target: { email: 'a@b.co' },
      payload: { source: 'api' },
    });
  });
});
