import { createTestDatabase, type TestDatabase } from '@herald/testing';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { register } from 'prom-client';
import { DataSource } from 'typeorm';
import {
  AnalyticsReader,
  ENGAGEMENT_KINDS,
  EngagementRecorder,
  RollupFolder,
  RollupRebuilder,
  type EngagementInput,
} from '../src';
import { analyticsTenant, insertDeliveries, rollupSnapshot, sourcingRun } from './analytics-fixture';

/** The rollups on a real Postgres: ledger triggers, the recorder's deltas, the fold, the reader and the rebuild. */
describe('analytics rollups (Postgres)', () => {
  let database: TestDatabase;
  let ds: DataSource;
  let recorder: EngagementRecorder;
  let folder: RollupFolder;
  let rebuilder: RollupRebuilder;
  let reader: AnalyticsReader;

  beforeAll(async () => {
    database = await createTestDatabase();
    ds = new DataSource({ type: 'postgres', url: database.url });
    await ds.initialize();
    recorder = new EngagementRecorder();
    folder = new RollupFolder(ds);
    rebuilder = new RollupRebuilder(ds);
    reader = new AnalyticsReader(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await database?.drop();
  });

  const record = (input: EngagementInput) =>
    ds.transaction('READ COMMITTED', (m) => recorder.record(m, input));
  const markSent = (tenantId: string, ids: string[], sentAt = 'now()') =>
    ds.query(
      `UPDATE deliveries SET status = 'sent', sent_at = ${sentAt}, updated_at = now() WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
      [tenantId, ids],
    );
  const today = () => new Date().toISOString().slice(0, 10);
  const allTime = { from: '2000-01-01', to: '2100-01-01' };

  it('counts deliveries targeted and sent from the ledger, a claim appends nothing, the variant set at render moves them', async () => {
    const t = await analyticsTenant(ds);
    const ids = await insertDeliveries(
      ds,
      t.id,
      t.contacts
        .slice(0, 4)
        .map((contact, i) => ({ campaign: t.campaign, contact, account: t.accounts[0], step: i % 2 })),
    );
    const deltaRows = async () =>
      Number(
        (
          await ds.query<{ count: string }[]>(`SELECT count(*) FROM analytics_deltas WHERE tenant_id = $1`, [
            t.id,
          ])
        )[0]!.count,
      );
    expect(await deltaRows()).toBe(2); // the insert statement's: one row per step
    await ds.query(`UPDATE deliveries SET status = 'sending', attempts = 1 WHERE tenant_id = $1`, [t.id]);
    expect(await deltaRows()).toBe(2);
    await ds.query(`UPDATE deliveries SET variant = 'B' WHERE tenant_id = $1 AND id = $2`, [t.id, ids[0]]);
    await markSent(t.id, ids.slice(0, 3));

    const byStep = await reader.campaign(t.id, t.campaign, 'step', allTime);
    expect(byStep.totals).toMatchObject({ targeted: 4, sent: 3 });
    expect(byStep.rows.map((r) => [r.step, r.targeted, r.sent])).toEqual([
      [0, 2, 2],
      [1, 2, 1],
    ]);
    const byVariant = await reader.campaign(t.id, t.campaign, 'variant', allTime);
    expect(byVariant.rows.map((r) => [r.variant, r.targeted, r.sent])).toEqual([
      ['B', 1, 1],
      [null, 3, 2],
    ]);

    // Folding changes where the counts live, not what a reader sees.
    const before = await rollupSnapshot(ds, t.id);
    expect(await folder.fold()).toBeGreaterThan(0);
    expect(await deltaRows()).toBe(0);
    expect(await rollupSnapshot(ds, t.id)).toEqual(before);
    expect((await reader.campaign(t.id, t.campaign, 'variant', allTime)).rows).toEqual(byVariant.rows);
  });

  it('counts an engagement kind once per delivery on its earliest day, never a machine event, and a replay changes nothing', async () => {
    const t = await analyticsTenant(ds);
    const [delivery] = await insertDeliveries(ds, t.id, [
      { campaign: t.campaign, contact: t.contacts[0]!, account: t.accounts[1], step: 0 },
    ]);
    await markSent(t.id, [delivery!]);
    const open = (id: string, at: string, machine = false) =>
      record({
        tenantId: t.id,
        kind: 'opened',
        source: 'tracking',
        sourceEventId: id,
        occurredAt: new Date(at),
        deliveryId: delivery,
        machine,
      });
    await open('scanner', '2026-03-01T10:00:00Z', true);
    expect((await reader.campaign(t.id, t.campaign, 'day', allTime)).totals.opened).toBe(0);
    await open('o1', '2026-03-05T10:00:00Z');
    await open('o2', '2026-03-06T10:00:00Z');
    const replay = await open('o1', '2026-03-05T10:00:00Z');
    expect(replay.recorded).toBe(false);
    let byDay = await reader.campaign(t.id, t.campaign, 'day', { from: '2026-03-01', to: '2026-03-31' });
    expect(byDay.rows.map((r) => [r.day, r.opened])).toEqual([['2026-03-05', 1]]);
    // An open that happened earlier but arrived later moves the count to its day.
    await open('o0', '2026-03-02T10:00:00Z');
    byDay = await reader.campaign(t.id, t.campaign, 'day', { from: '2026-03-01', to: '2026-03-31' });
    expect(byDay.rows.filter((r) => r.opened !== 0).map((r) => [r.day, r.opened])).toEqual([
      ['2026-03-02', 1],
    ]);
    expect(byDay.totals.opened).toBe(1);

    const bySender = await reader.campaign(t.id, t.campaign, 'sender_account', allTime);
    expect(bySender.rows.map((r) => [r.senderAccountId, r.opened])).toEqual([[t.accounts[1], 1]]);

    const snapshot = await rollupSnapshot(ds, t.id);
    await rebuilder.rebuild(t.id);
    expect(await rollupSnapshot(ds, t.id)).toEqual(snapshot);
  });

  it('sums revenue per currency and counts every conversion', async () => {
    const t = await analyticsTenant(ds);
    const [delivery] = await insertDeliveries(ds, t.id, [
      { campaign: t.campaign, contact: t.contacts[0]!, account: t.accounts[0], step: 0 },
    ]);
    const convert = (id: string, value: string | null, currency: string | null) =>
      record({
        tenantId: t.id,
        kind: 'converted',
        source: 'api',
        sourceEventId: id,
        occurredAt: new Date(),
        deliveryId: delivery,
        value,
        currency,
      });
    await convert('a', '10.50', 'EUR');
    await convert('b', '0.25', 'EUR');
    await convert('c', '7', 'USD');
    await convert('d', null, null);
    const { totals } = await reader.campaign(t.id, t.campaign, 'day', allTime);
    expect(totals.converted).toBe(4);
    expect(totals.revenue).toEqual({ EUR: '10.7500', USD: '7.0000' });
    await folder.fold();
    expect((await reader.campaign(t.id, t.campaign, 'day', allTime)).totals).toEqual(totals);
  });

  it("puts a count on the tenant's local day", async () => {
    const t = await analyticsTenant(ds, 'Pacific/Auckland');
    const [delivery] = await insertDeliveries(ds, t.id, [
      {
        campaign: t.campaign,
        contact: t.contacts[0]!,
        account: t.accounts[0],
        step: 0,
        createdAt: '2026-06-30T20:00:00Z',
      },
    ]);
    await markSent(t.id, [delivery!], `'2026-06-30T20:00:00Z'`);
    const byDay = await reader.campaign(t.id, t.campaign, 'day', { from: '2026-06-01', to: '2026-07-31' });
    // 20:00 UTC on 30 June is 08:00 on 1 July in Auckland (NZST, +12).
    expect(byDay.rows.map((r) => [r.day, r.targeted, r.sent])).toEqual([['2026-07-01', 1, 1]]);
  });

  it('the funnel counts candidates sourced and turned into contacts, and the messages after', async () => {
    const t = await analyticsTenant(ds);
    const { job, run, source } = await sourcingRun(ds, t.id);
    await ds.query(
      `INSERT INTO candidates (tenant_id, id, run_id, job_id, source_account_id, source_key, raw_hash)
       SELECT $1, uuidv7(), $2, $3, $4, 'key-' || i, 'h' FROM generate_series(1, 5) AS i`,
      [t.id, run, job, source],
    );
    await ds.query(
      `UPDATE candidates SET stage = 'handed_off', contact_id = $2 WHERE tenant_id = $1 AND source_key IN ('key-1', 'key-2')`,
      [t.id, t.contacts[0]],
    );
    const ids = await insertDeliveries(
      ds,
      t.id,
      t.contacts
        .slice(0, 2)
        .map((contact) => ({ campaign: t.campaign, contact, account: t.accounts[0], step: 0 })),
    );
    await markSent(t.id, ids);
    for (const [kind, id] of [
      ['delivered', 'd1'],
      ['delivered', 'd2'],
      ['replied', 'r1'],
      ['converted', 'c1'],
    ] as const)
      await record({
        tenantId: t.id,
        kind,
        source: 'sendgrid',
        sourceEventId: id,
        occurredAt: new Date(),
        deliveryId: id === 'd2' ? ids[1] : ids[0],
        value: kind === 'converted' ? '99' : null,
        currency: kind === 'converted' ? 'GBP' : null,
      });
    const range = { from: today(), to: today() };
    const funnel = await reader.funnel(t.id, range);
    expect(funnel).toEqual({
      range,
      campaignId: null,
      sourced: 5,
      contacts: 2,
      sent: 2,
      delivered: 2,
      replied: 1,
      converted: 1,
      revenue: { GBP: '99.0000' },
    });
    const campaignFunnel = await reader.funnel(t.id, range, { campaignId: t.campaign });
    expect(campaignFunnel).toMatchObject({ sourced: null, contacts: null, sent: 2, converted: 1 });
    // Another day's range sees none of it.
    expect(await reader.funnel(t.id, { from: '2001-01-01', to: '2001-01-31' })).toMatchObject({
      sourced: 0,
      sent: 0,
    });

    const snapshot = await rollupSnapshot(ds, t.id);
    await rebuilder.rebuild(t.id);
    expect(await rollupSnapshot(ds, t.id)).toEqual(snapshot);
  });

  it('counts recorded events in herald_engagement_events_total by kind, source and account, replays not', async () => {
    const t = await analyticsTenant(ds);
    const [delivery] = await insertDeliveries(ds, t.id, [
      { campaign: t.campaign, contact: t.contacts[0]!, account: t.accounts[0], step: 0 },
    ]);
    const value = async (account: string) =>
      (await register.getSingleMetric('herald_engagement_events_total')!.get()).values.find(
        (v) => v.labels.kind === 'clicked' && v.labels.source === 'mailgun' && v.labels.account === account,
      )?.value ?? 0;
    const click = (id: string, deliveryId: string | null) =>
      record({
        tenantId: t.id,
        kind: 'clicked',
        source: 'mailgun',
        sourceEventId: id,
        occurredAt: new Date(),
        deliveryId,
        contactId: t.contacts[1],
      });
    const before = await value(t.accounts[0]);
    await click('x1', delivery!);
    await click('x1', delivery!);
    expect(await value(t.accounts[0])).toBe(before + 1);
    const none = await value('');
    await click('x2', null);
    expect(await value('')).toBe(none + 1);
  });

  it('rollups built incrementally equal a rebuild, for any order of sends, events (alone or in batches), replays and folds', async () => {
    const t = await analyticsTenant(ds, 'America/New_York');
    const deliveries = await insertDeliveries(
      ds,
      t.id,
      t.contacts.map((contact, i) => ({
        campaign: t.campaign,
        contact,
        account: t.accounts[i % 2]!,
        step: i % 2,
        createdAt: '2026-02-01T03:00:00Z',
      })),
    );
    const base = Date.parse('2026-02-01T00:00:00Z');
    const op = fc.oneof(
      fc.record({
        op: fc.constant('event' as const),
        kind: fc.constantFrom(...ENGAGEMENT_KINDS),
        delivery: fc.option(fc.nat(deliveries.length - 1), { nil: null }),
        hour: fc.nat(24 * 6),
        machine: fc.boolean(),
        id: fc.nat(30),
        // Recorded with the next batched events in one recordMany, or alone.
        batched: fc.boolean(),
        value: fc.option(fc.constantFrom('1.5', '20', '0.0001'), { nil: null }),
        currency: fc.constantFrom('EUR', 'USD'),
      }),
      fc.record({
        op: fc.constant('sent' as const),
        delivery: fc.nat(deliveries.length - 1),
        hour: fc.nat(48),
      }),
      fc.record({
        op: fc.constant('variant' as const),
        delivery: fc.nat(deliveries.length - 1),
        variant: fc.constantFrom('A', 'B'),
      }),
      fc.record({ op: fc.constant('fold' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
        const scope = randomUUID().slice(0, 8); // each run's event ids are its own
        let batch: Omit<EngagementInput, 'tenantId'>[] = [];
        const flush = async () => {
          if (batch.length > 0)
            await ds.transaction('READ COMMITTED', (m) => recorder.recordMany(m, t.id, batch));
          batch = [];
        };
        for (const o of ops) {
          if (o.op !== 'event' || !o.batched) await flush();
          if (o.op === 'fold') await folder.fold();
          else if (o.op === 'sent')
            await markSent(
              t.id,
              [deliveries[o.delivery]!],
              `'${new Date(base + o.hour * 3_600_000).toISOString()}'`,
            );
          else if (o.op === 'variant')
            await ds.query(`UPDATE deliveries SET variant = $3 WHERE tenant_id = $1 AND id = $2`, [
              t.id,
              deliveries[o.delivery],
              o.variant,
            ]);
          else {
            const input: EngagementInput = {
              tenantId: t.id,
              kind: o.kind,
              source: 'prop',
              sourceEventId: `${scope}-${o.kind}-${o.id}`,
              occurredAt: new Date(base + o.hour * 3_600_000),
              deliveryId: o.delivery === null ? null : deliveries[o.delivery],
              contactId: t.contacts[0],
              campaignId: o.delivery === null ? t.campaign : null,
              machine: o.machine,
              value: o.kind === 'converted' ? o.value : null,
              currency: o.kind === 'converted' && o.value !== null ? o.currency : null,
            };
            if (o.batched) batch.push(input);
            else await record(input);
          }
        }
        await flush();
        const incremental = await rollupSnapshot(ds, t.id);
        await rebuilder.rebuild(t.id);
        expect(await rollupSnapshot(ds, t.id)).toEqual(incremental);
      }),
      { numRuns: 60 },
    );
  });

  it('counts a delivery once when its events are recorded concurrently, alone and in batches', async () => {
    const t = await analyticsTenant(ds);
    const [delivery] = await insertDeliveries(ds, t.id, [
      { campaign: t.campaign, contact: t.contacts[0]!, account: t.accounts[0], step: 0 },
    ]);
    const at = (i: number) => new Date(Date.parse('2026-05-01T12:00:00Z') + ((i * 37) % 20) * 86_400_000);
    await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        i % 2 === 0
          ? record({
              tenantId: t.id,
              kind: 'opened',
              source: 'race',
              sourceEventId: `o-${i}`,
              occurredAt: at(i),
              deliveryId: delivery,
            })
          : ds.transaction('READ COMMITTED', (m) =>
              recorder.recordMany(m, t.id, [
                {
                  kind: 'opened',
                  source: 'race',
                  sourceEventId: `o-${i}`,
                  occurredAt: at(i),
                  deliveryId: delivery,
                },
                {
                  kind: 'clicked',
                  source: 'race',
                  sourceEventId: `c-${i}`,
                  occurredAt: at(i),
                  deliveryId: delivery,
                },
              ]),
            ),
      ),
    );
    const { totals } = await reader.campaign(t.id, t.campaign, 'day', allTime);
    expect(totals).toMatchObject({ opened: 1, clicked: 1 });
    const snapshot = await rollupSnapshot(ds, t.id);
    await rebuilder.rebuild(t.id);
    expect(await rollupSnapshot(ds, t.id)).toEqual(snapshot);
  });

  it('rebuilds one tenant without touching another', async () => {
    const a = await analyticsTenant(ds);
    const b = await analyticsTenant(ds);
    for (const t of [a, b])
      await insertDeliveries(ds, t.id, [
        { campaign: t.campaign, contact: t.contacts[0]!, account: t.accounts[0], step: 0 },
      ]);
    // Corrupt B's rollups on purpose: a rebuild of A must leave them as they are.
    await ds.query(
      `INSERT INTO analytics_deltas (tenant_id, campaign_id, day, targeted) VALUES ($1, $2, current_date, 5)`,
      [b.id, b.campaign],
    );
    await rebuilder.rebuild(a.id);
    expect((await reader.campaign(b.id, b.campaign, 'day', allTime)).totals.targeted).toBe(6);
    await rebuilder.rebuild(b.id);
    expect((await reader.campaign(b.id, b.campaign, 'day', allTime)).totals.targeted).toBe(1);
    expect((await reader.campaign(a.id, a.campaign, 'day', allTime)).totals.targeted).toBe(1);
  });
});
