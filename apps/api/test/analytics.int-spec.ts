import { randomUUID } from 'node:crypto';
import { TestApi } from '../../../test/support/api-app';

type Problem = { type: string; status: number; errors: { field: string; message: string }[] };
type EventResult = {
  interaction_id: string | null;
  suppressed: boolean;
  enrollments_stopped: number;
  delivery_id: string | null;
  duplicate: boolean;
};
const COUNTERS = [
  'targeted',
  'sent',
  'delivered',
  'bounced',
  'complained',
  'opened',
  'clicked',
  'replied',
  'unsubscribed',
  'converted',
] as const;
type Counts = Record<(typeof COUNTERS)[number], number> & { revenue: Record<string, string> };
type CampaignAnalytics = {
  campaign_id: string;
  by: string;
  from: string;
  to: string;
  totals: Counts;
  rows: (Counts & { day?: string; step?: number | null; variant?: string | null })[];
};

const DAY = 86_400_000;

/**
 * Conversions and replies through POST /v1/events into the rollups, and the analytics routes
 * (JSON and CSV, ranges, problems, other tenants) on the api in process and a real Postgres.
 * The ledger rows are written in SQL, as the pipeline leaves them.
 */
describe('analytics API', () => {
  let api: TestApi;
  let tenant: { id: string; key: string };
  let other: { id: string; key: string };
  let account: string;
  let campaign: string;
  let contacts: { id: string; email: string }[];

  beforeAll(async () => {
    api = await TestApi.start();
    tenant = await api.createTenant('Analytics', 'UTC');
    other = await api.createTenant('Other', 'UTC');
    account = await api.createWebhookAccount(tenant.key);
    campaign = (
      await api.request<{ id: string }>('POST', '/v1/campaigns', {
        key: tenant.key,
        body: {
          name: 'Launch',
          kind: 'sequence',
          sender_account_id: account,
          steps: [{ body: 'Hello' }, { delay: 60, body: 'Again' }],
        },
      })
    ).body.id;
    await api.request('POST', '/v1/contacts/import', {
      key: tenant.key,
      body: Array.from({ length: 6 }, (_, i) => ({ email: `p${i}@example.com` })),
    });
    contacts = (
      await api.request<{ data: { id: string; email: string }[] }>('GET', '/v1/contacts?limit=100', {
        key: tenant.key,
      })
    ).body.data;
  });
  afterAll(async () => {
    await api.close();
  });

  const contact = (i: number) => contacts.find((c) => c.email === `p${i}@example.com`)!.id;
  /** A delivery of the campaign sent `daysAgo` days ago (null: not sent). */
  const delivery = async (
    contactId: string,
    daysAgo: number | null,
    step = 0,
    variant: string | null = null,
  ) => {
    const id = randomUUID();
    const at = daysAgo === null ? null : new Date(Date.now() - daysAgo * DAY).toISOString();
    await api.query(
      `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, contact_id, sender_account_id, channel, step,
                               status, sent_at, created_at, variant)
       VALUES ($1, $2, $3, $4, $5, $6, 'webhook', $7, $8, $9, coalesce($9::timestamptz, now()), $10)`,
      [tenant.id, id, `k-${id}`, campaign, contactId, account, step, at ? 'sent' : 'pending', at, variant],
    );
    return id;
  };
  const event = (body: Record<string, unknown>, key = tenant.key) =>
    api.request<EventResult & Problem>('POST', '/v1/events', { key, body });
  const analytics = (query = '', key = tenant.key, headers: Record<string, string> = {}) =>
    api.request<CampaignAnalytics & Problem>('GET', `/v1/analytics/campaigns/${campaign}${query}`, {
      key,
      headers,
    });
  const isoDay = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY).toISOString().slice(0, 10);

  it('attributes a conversion to the contact’s last delivery sent within the window, once per event_id', async () => {
    const older = await delivery(contact(0), 20);
    const latest = await delivery(contact(0), 2);
    await delivery(contact(0), null); // not sent: never attributed
    const before = (await analytics()).body.totals;

    const first = await event({
      type: 'converted',
      contact_id: contact(0),
      event_id: 'order-1001',
      value: '49.90',
      currency: 'EUR',
    });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      interaction_id: null,
      suppressed: false,
      enrollments_stopped: 0,
      delivery_id: latest,
      duplicate: false,
    });
    // The same event again (a retry): nothing changes.
    const again = await event({
      type: 'converted',
      contact_id: contact(0),
      event_id: 'order-1001',
      value: '49.90',
      currency: 'EUR',
    });
    expect(again.body).toMatchObject({ duplicate: true, delivery_id: latest });
    // One that happened 10 days ago is attributed to the delivery sent before it.
    const earlier = await event({
      type: 'converted',
      email: 'P0@example.com',
      event_id: 'order-900',
      value: 10,
      currency: 'USD',
      occurred_at: new Date(Date.now() - 10 * DAY).toISOString(),
    });
    expect(earlier.body.delivery_id).toBe(older);

    const after = (await analytics()).body.totals;
    expect(after.converted - before.converted).toBe(2);
    expect(after.revenue).toEqual({ ...before.revenue, EUR: '49.9000', USD: '10.0000' });
    const rows = await api.query<{ n: string }>(
      `SELECT count(*) AS n FROM engagement_events WHERE tenant_id = $1 AND kind = 'converted' AND source = 'api'`,
      [tenant.id],
    );
    expect(Number(rows[0]!.n)).toBe(2);
  });

  it('leaves a conversion unattributed past CONVERSION_ATTRIBUTION_DAYS (30 by default), still recorded', async () => {
    await delivery(contact(1), 45);
    const res = await event({ type: 'converted', contact_id: contact(1), event_id: 'late-1' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ delivery_id: null, duplicate: false });
    const [row] = await api.query<{ delivery_id: string | null; campaign_id: string | null }>(
      `SELECT delivery_id, campaign_id FROM engagement_events WHERE tenant_id = $1 AND source_event_id = 'late-1'`,
      [tenant.id],
    );
    expect(row).toEqual({ delivery_id: null, campaign_id: null });
  });

  it('counts a reply as replied on its delivery, in the campaign named, and stops the sequence as before', async () => {
    const sent = await delivery(contact(2), 1, 1);
    const before = (await analytics('?by=step')).body;
    const res = await event({
      type: 'reply',
      contact_id: contact(2),
      campaign_id: campaign,
      event_id: 'msg-<abc@mail>',
      payload: { subject: 'Re: Hello' },
    });
    expect(res.status).toBe(200);
    expect(res.body.interaction_id).toEqual(expect.any(String));
    expect(res.body.delivery_id).toBe(sent);
    const replay = await event({ type: 'reply', contact_id: contact(2), event_id: 'msg-<abc@mail>' });
    expect(replay.body).toMatchObject({ duplicate: true, interaction_id: null });
    const interactions = await api.query(
      `SELECT 1 FROM interactions WHERE tenant_id = $1 AND contact_id = $2 AND type = 'reply'`,
      [tenant.id, contact(2)],
    );
    expect(interactions).toHaveLength(1);
    const stepOne = (await analytics('?by=step')).body.rows.find((r) => r.step === 1)!;
    const stepOneBefore = before.rows.find((r) => r.step === 1);
    expect(stepOne.replied - (stepOneBefore?.replied ?? 0)).toBe(1);
  });

  it('refuses a bad event naming the field, and writes nothing', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'converted', contact_id: contact(3) }, 'event_id'],
      [{ type: 'converted', contact_id: contact(3), event_id: 'x', value: '12.5' }, 'currency'],
      [{ type: 'converted', contact_id: contact(3), event_id: 'x', value: '-1', currency: 'EUR' }, 'value'],
      [
        { type: 'converted', contact_id: contact(3), event_id: 'x', value: '1.23456', currency: 'EUR' },
        'value',
      ],
      [
        { type: 'converted', contact_id: contact(3), event_id: 'x', value: '1', currency: 'EURO' },
        'currency',
      ],
      [{ type: 'converted', contact_id: contact(3), event_id: 'x', value: '1', currency: 'XYZ' }, 'currency'],
      [{ type: 'bounce', contact_id: contact(3), event_id: 'x' }, 'event_id'],
      [{ type: 'reply', contact_id: contact(3), value: '1' }, 'value'],
      [{ type: 'converted', contact_id: contact(3), event_id: 'has space' }, 'event_id'],
    ];
    for (const [body, field] of cases) {
      const res = await event(body);
      expect({ body, status: res.status, fields: res.body.errors?.map((e) => e.field) }).toEqual({
        body,
        status: 400,
        fields: [field],
      });
    }
    const unknown = await event({ type: 'converted', contact_id: randomUUID(), event_id: 'y' });
    expect(unknown.status).toBe(404);
    const written = await api.query(
      `SELECT 1 FROM engagement_events WHERE tenant_id = $1 AND source_event_id IN ('x', 'y')`,
      [tenant.id],
    );
    expect(written).toEqual([]);
  });

  it('groups a campaign by day, step and variant, and exports the same as CSV', async () => {
    const variantA = await delivery(contact(4), 0, 0, 'A');
    await delivery(contact(5), 0, 0, 'B');
    await event({ type: 'converted', contact_id: contact(4), event_id: 'v-a', value: '5', currency: 'EUR' });
    const byVariant = await analytics('?by=variant');
    expect(byVariant.status).toBe(200);
    expect(byVariant.body.rows.map((r) => [r.variant, r.sent, r.converted])).toEqual(
      expect.arrayContaining([
        ['A', 1, 1],
        ['B', 1, 0],
      ]),
    );
    expect(variantA).toBeDefined();
    const byDay = await analytics(`?by=day&from=${isoDay(3)}&to=${isoDay(0)}`);
    expect(byDay.body).toMatchObject({ by: 'day', from: isoDay(3), to: isoDay(0) });
    expect(byDay.body.rows.map((r) => r.day)).toEqual([...new Set(byDay.body.rows.map((r) => r.day))].sort());
    expect(byDay.body.rows.every((r) => r.day! >= isoDay(3) && r.day! <= isoDay(0))).toBe(true);

    const csv = await analytics('?by=variant', tenant.key, { accept: 'text/csv' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toMatch(
      /^attachment; filename="campaign-.*-variant-.*\.csv"$/,
    );
    const lines = csv.text.split('\r\n');
    expect(lines[0]).toBe(
      'variant,targeted,sent,delivered,bounced,complained,opened,clicked,replied,unsubscribed,converted,revenue_EUR,revenue_USD',
    );
    const a = lines.find((l) => l.startsWith('A,'))!.split(',');
    const jsonA = byVariant.body.rows.find((r) => r.variant === 'A')!;
    expect(a).toEqual(['A', ...COUNTERS.map((k) => String(jsonA[k])), '5.0000', '0.0000']);
    expect(lines.at(-1)).toBe('');
    // ?format=csv says the same; format=json wins over the Accept header.
    expect((await analytics('?by=variant&format=csv')).text).toBe(csv.text);
    expect(
      (await analytics('?by=variant&format=json', tenant.key, { accept: 'text/csv' })).body.rows,
    ).toEqual(byVariant.body.rows);
  });

  it('answers the funnel, for the tenant and for one campaign, as JSON and CSV', async () => {
    const range = `from=${isoDay(60)}&to=${isoDay(0)}`;
    const funnel = await api.request<Record<string, unknown>>('GET', `/v1/analytics/funnel?${range}`, {
      key: tenant.key,
    });
    expect(funnel.status).toBe(200);
    const totals = (await analytics(`?${range}`)).body.totals;
    expect(funnel.body).toEqual({
      campaign_id: null,
      from: isoDay(60),
      to: isoDay(0),
      sourced: 0,
      contacts: 0,
      sent: totals.sent,
      delivered: totals.delivered,
      replied: totals.replied,
      // The unattributed conversion counts for the tenant, not for the campaign.
      converted: totals.converted + 1,
      revenue: totals.revenue,
    });
    const one = await api.request<Record<string, unknown>>(
      'GET',
      `/v1/analytics/funnel?${range}&campaign_id=${campaign}`,
      {
        key: tenant.key,
      },
    );
    expect(one.body).toMatchObject({
      campaign_id: campaign,
      sourced: null,
      contacts: null,
      converted: totals.converted,
    });
    const csv = await api.request('GET', `/v1/analytics/funnel?${range}&format=csv`, { key: tenant.key });
    expect(csv.text).toBe(
      [
        'stage,count',
        'sourced,0',
        'contacts,0',
        `sent,${totals.sent}`,
        `delivered,${totals.delivered}`,
        `replied,${totals.replied}`,
        `converted,${totals.converted + 1}`,
        ...Object.keys(totals.revenue)
          .sort()
          .map((c) => `revenue_${c},${totals.revenue[c]}`),
        '',
      ].join('\r\n'),
    );
  });

  it('refuses a bad range or grouping naming the field', async () => {
    const cases: [string, string][] = [
      ['?by=week', 'by'],
      ['?from=2026-13-01', 'from'],
      ['?from=2026-02-30', 'from'],
      ['?from=2026-03-02&to=2026-03-01', 'from'],
      ['?from=2024-01-01&to=2025-12-31', 'to'],
      ['?format=xml', 'format'],
      ['?limit=3', 'limit'],
    ];
    for (const [query, field] of cases) {
      const res = await analytics(query);
      expect({ query, status: res.status, fields: res.body.errors?.map((e) => e.field) }).toEqual({
        query,
        status: 400,
        fields: [field],
      });
    }
    const funnel = await api.request<Problem>('GET', `/v1/analytics/funnel?campaign_id=${randomUUID()}`, {
      key: tenant.key,
    });
    expect(funnel.status).toBe(404);
    expect(funnel.body.errors.map((e) => e.field)).toEqual(['campaign_id']);
  });

  it('records engagement events in bulk, counted at once, a retried request changing nothing', async () => {
    const d = await delivery(contact(3), 0, 1, 'C');
    const at = new Date().toISOString();
    const body = {
      events: [
        { event_id: 'b-1', kind: 'delivered', delivery_id: d, occurred_at: at },
        { event_id: 'b-2', kind: 'opened', delivery_id: d, occurred_at: at },
        { event_id: 'b-3', kind: 'opened', delivery_id: d, occurred_at: at, machine: true },
        { event_id: 'b-4', kind: 'clicked', delivery_id: d, occurred_at: at, url: 'https://example.com/a' },
        {
          event_id: 'b-5',
          kind: 'converted',
          delivery_id: d,
          occurred_at: at,
          value: '3.5',
          currency: 'EUR',
        },
        { event_id: 'b-6', kind: 'delivered', delivery_id: randomUUID(), occurred_at: at },
        { event_id: 'b-1', kind: 'delivered', delivery_id: d, occurred_at: at },
      ],
    };
    const bulk = (key = tenant.key) =>
      api.request<Record<string, number> & Problem>('POST', '/v1/engagement-events', { key, body });
    const first = await bulk();
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ recorded: 6, duplicates: 1, unmatched: 1 });
    expect((await bulk()).body).toEqual({ recorded: 0, duplicates: 7, unmatched: 0 });
    const row = (await analytics('?by=variant')).body.rows.find((r) => r.variant === 'C')!;
    expect(row).toMatchObject({
      delivered: 1,
      opened: 1,
      clicked: 1,
      converted: 1,
      revenue: { EUR: '3.5000' },
    });
    // Another tenant naming this tenant's delivery: recorded as its own, unmatched, in no campaign of either.
    const stolen = await api.request<Record<string, number>>('POST', '/v1/engagement-events', {
      key: other.key,
      body: { events: [{ event_id: 'x-1', kind: 'opened', delivery_id: d, occurred_at: at }] },
    });
    expect(stolen.body).toEqual({ recorded: 1, duplicates: 0, unmatched: 1 });
    expect((await analytics('?by=variant')).body.rows.find((r) => r.variant === 'C')!.opened).toBe(1);
  });

  it('refuses a bad bulk request naming the field, recording none of it', async () => {
    const at = new Date().toISOString();
    const cases: [unknown, string][] = [
      [{ events: [] }, 'events'],
      [
        {
          events: Array.from({ length: 1001 }, (_, i) => ({
            event_id: `m-${i}`,
            kind: 'converted',
            occurred_at: at,
          })),
        },
        'events',
      ],
      [
        { events: [{ event_id: 'z-1', kind: 'bounced', delivery_id: randomUUID(), occurred_at: at }] },
        'events[0].kind',
      ],
      [{ events: [{ event_id: 'z-1', kind: 'opened', occurred_at: at }] }, 'events[0].delivery_id'],
      [
        {
          events: [
            { event_id: 'z-1', kind: 'converted', occurred_at: at },
            { event_id: 'z-2', kind: 'converted', occurred_at: at, value: '1' },
          ],
        },
        'events[1].currency',
      ],
      [
        { events: [{ event_id: 'z-1', kind: 'converted', occurred_at: '2999-01-01T00:00:00Z' }] },
        'events[0].occurred_at',
      ],
    ];
    for (const [body, field] of cases) {
      const res = await api.request<Problem>('POST', '/v1/engagement-events', { key: tenant.key, body });
      expect({ field, status: res.status, fields: res.body.errors?.map((e) => e.field) }).toEqual({
        field,
        status: 400,
        fields: [field],
      });
    }
    expect(
      await api.query(
        `SELECT 1 FROM engagement_events WHERE source_event_id LIKE 'z-%' OR source_event_id LIKE 'm-%'`,
      ),
    ).toEqual([]);
  });

  it('shows another tenant none of it', async () => {
    expect((await analytics('', other.key)).status).toBe(404);
    const funnel = await api.request<Problem>('GET', `/v1/analytics/funnel?campaign_id=${campaign}`, {
      key: other.key,
    });
    expect(funnel.status).toBe(404);
    const own = await api.request<Record<string, unknown>>(
      'GET',
      `/v1/analytics/funnel?from=${isoDay(60)}&to=${isoDay(0)}`,
      { key: other.key },
    );
    expect(own.body).toMatchObject({ sent: 0, converted: 0, revenue: {} });
    // Events naming this tenant's contact from the other tenant: not found, nothing recorded.
    expect(
      (await event({ type: 'converted', contact_id: contact(0), event_id: 'steal' }, other.key)).status,
    ).toBe(404);
  });
});
