import {
  EngagementRecorder,
  REPORT_CLAIM_LEASE_SECONDS,
  WeeklyReportScheduler,
  type EngagementKind,
} from '@herald/engagement';
import { WebhookSink } from '@herald/testing';
import { SMTPServer } from 'smtp-server';
import { DataSource } from 'typeorm';
import { TestApi } from '../../../test/support/api-app';

type Problem = { status: number; errors: { field: string; message: string }[] };
const SECRET = 'reports-int-sink-secret-0123456789abcdef';
/** Wednesday of 2026-W49, noon in Paris. */
const IN_WEEK = '2026-12-02T11:00:00Z';
/** Monday 2026-12-07 09:00 in Paris: the report of 2026-W49 is due. */
const MONDAY_MORNING = new Date('2026-12-07T08:00:00Z');

/** An SMTP provider on loopback that keeps each raw message (the report's parts are the point here). */
async function rawSmtpSink(): Promise<{ port: number; messages: string[]; stop: () => Promise<void> }> {
  const messages: string[] = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    allowInsecureAuth: true,
    hideSTARTTLS: true,
    disabledCommands: ['STARTTLS'],
    onAuth: (auth, _session, callback) => callback(null, { user: auth.username ?? 'anyone' }),
    onData: (stream, _session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push(Buffer.concat(chunks).toString('utf8'));
        callback();
      });
    },
  });
  const port = await new Promise<number>((resolve) => {
    const net = server.listen(0, '127.0.0.1', () => {
      const address = net.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
  return { port, messages, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Quoted-printable soft breaks and escapes undone: enough to read an HTML part. */
function unQuotedPrintable(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * Weekly reports through the API and the beat's duty: a week of sends and engagement built into
 * the report (JSON and HTML with its SVG chart), delivered once by email to an SMTP sink and by
 * signed webhook to a WebhookSink, however often the duty runs.
 */
describe('weekly reports', () => {
  let api: TestApi;
  let smtp: Awaited<ReturnType<typeof rawSmtpSink>>;
  let hooks: WebhookSink;
  let tenant: { id: string; key: string };
  let other: { id: string; key: string };
  let smtpAccount: string;
  let webhookAccount: string;
  let campaignId: string;

  beforeAll(async () => {
    [api, smtp, hooks] = await Promise.all([
      TestApi.start({ OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true' }),
      rawSmtpSink(),
      WebhookSink.start(SECRET),
    ]);
    tenant = await api.createTenant('Reporter', 'Europe/Paris');
    other = await api.createTenant('Webhooked', 'Europe/Paris');
    smtpAccount = (
      await api.request<{ id: string }>('POST', '/v1/sender-accounts', {
        key: tenant.key,
        body: {
          name: 'Main <smtp>',
          channel: 'smtp',
          config: {
            host: '127.0.0.1',
            port: smtp.port,
            secure: false,
            username: 'u',
            password: 'p',
            from: 'Herald <r@example.test>',
          },
        },
      })
    ).body.id;
    webhookAccount = (
      await api.request<{ id: string }>('POST', '/v1/sender-accounts', {
        key: other.key,
        body: { name: 'Hooks', channel: 'webhook', config: { url: hooks.url, secret: SECRET } },
      })
    ).body.id;
    // A week of sends: 40 deliveries of an A/B campaign, 20 per variant, sent on Wednesday.
    const [campaign] = await api.query<{ id: string }>(
      `INSERT INTO campaigns (tenant_id, id, name, kind, sender_account_id, steps)
       VALUES ($1, uuidv7(), 'Spring & "sale"', 'broadcast', $2,
               '[{"body": "Hi", "variants": [{"name": "A", "weight": 1, "subject": "a"}, {"name": "B", "weight": 1, "subject": "b"}],
                  "experiment": {"metric": "reply", "min_sample": 20, "confidence": 0.95, "auto_promote": false}}]')
       RETURNING id`,
      [tenant.id, smtpAccount],
    );
    campaignId = campaign!.id;
    const deliveries = await api.query<{ id: string; variant: string }>(
      `WITH c AS (
         INSERT INTO contacts (tenant_id, id, email, created_at) SELECT $1, uuidv7(), 'r' || i || '@example.test', now() FROM generate_series(1, 40) i
         RETURNING id)
       INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, contact_id, sender_account_id, channel, status,
                               attempts, sent_at, variant, step)
       SELECT $1, uuidv7(), 'k:' || c.id, $2, c.id, $3, 'smtp', 'sent', 1, $4::timestamptz,
              CASE WHEN row_number() OVER (ORDER BY c.id) % 2 = 0 THEN 'A' ELSE 'B' END, 0
         FROM c
       RETURNING id, variant`,
      [tenant.id, campaignId, smtpAccount, IN_WEEK],
    );
    const dataSource = api.app.get(DataSource);
    const recorder = new EngagementRecorder();
    const record = (kind: EngagementKind, deliveryId: string, i: number, extra = {}) =>
      dataSource.transaction((m) =>
        recorder.record(m, {
          tenantId: tenant.id,
          kind,
          source: 'test',
          sourceEventId: `${kind}-${i}`,
          occurredAt: new Date(IN_WEEK),
          deliveryId,
          ...extra,
        }),
      );
    const a = deliveries.filter((d) => d.variant === 'A');
    const b = deliveries.filter((d) => d.variant === 'B');
    for (const [i, d] of deliveries.entries()) await record('delivered', d.id, i);
    for (const [i, d] of b.slice(0, 12).entries()) await record('replied', d.id, i);
    await record('replied', a[0]!.id, 100);
    await record('bounced', a[1]!.id, 1, { bounceType: 'hard' });
    await record('bounced', a[2]!.id, 2, { bounceType: 'soft' });
    await record('complained', a[3]!.id, 1);
    // A prefetcher's click is kept but not counted.
    await record('clicked', a[4]!.id, 1, { machine: true });
    await record('clicked', b[0]!.id, 2);
  });

  afterAll(async () => {
    await api?.close();
    await smtp?.stop();
    await hooks?.stop();
  });

  it('builds the week: each campaign’s funnel and experiment, deliverability per account, the days', async () => {
    const res = await api.request<{
      week: string;
      totals: Record<string, number>;
      daily: { date: string; sent: number; replied: number }[];
      campaigns: {
        name: string;
        funnel: Record<string, number>;
        experiments: { winner: string | null; variants: { name: string; sent: number }[] }[];
      }[];
      deliverability: {
        name: string;
        sent: number;
        bounced: number;
        bounce_rate: number;
        complaint_rate: number;
      }[];
    }>('GET', '/v1/reports/weekly?week=2026-W49', { key: tenant.key });
    expect(res.status).toBe(200);
    expect(res.body.week).toBe('2026-W49');
    expect(res.body.totals).toMatchObject({
      sent: 40,
      delivered: 40,
      replied: 13,
      clicked: 1,
      bounced: 2,
      complained: 1,
    });
    expect(res.body.daily).toHaveLength(7);
    expect(res.body.daily.find((d) => d.date === '2026-12-02')).toMatchObject({ sent: 40, replied: 13 });
    expect(res.body.campaigns).toEqual([
      expect.objectContaining({
        name: 'Spring & "sale"',
        funnel: {
          sent: 40,
          delivered: 40,
          opened: 0,
          clicked: 1,
          replied: 13,
          converted: 0,
          unsubscribed: 0,
        },
      }),
    ]);
    // 12/20 against 1/20 with 20 a variant needed: B wins.
    expect(res.body.campaigns[0]!.experiments[0]).toMatchObject({
      winner: 'B',
      variants: [
        expect.objectContaining({ name: 'A', sent: 20 }),
        expect.objectContaining({ name: 'B', sent: 20 }),
      ],
    });
    expect(res.body.deliverability).toEqual([
      expect.objectContaining({
        name: 'Main <smtp>',
        sent: 40,
        bounced: 2,
        bounce_rate: 0.05,
        complaint_rate: 0.025,
      }),
    ]);

    const empty = await api.request<{ totals: { sent: number }; campaigns: unknown[] }>(
      'GET',
      '/v1/reports/weekly?week=2026-W48',
      { key: tenant.key },
    );
    expect(empty.body).toMatchObject({ totals: { sent: 0 }, campaigns: [] });
    const foreign = await api.request<{ totals: { sent: number } }>(
      'GET',
      '/v1/reports/weekly?week=2026-W49',
      {
        key: other.key,
      },
    );
    expect(foreign.body.totals.sent).toBe(0);
  });

  it('answers HTML with the chart as inline SVG when asked for it', async () => {
    const res = await api.request<string>('GET', '/v1/reports/weekly?week=2026-W49', {
      key: tenant.key,
      headers: { accept: 'text/html' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(res.text).toContain('Spring &#38; &#34;sale&#34;');
    expect(res.text).toContain('Main &#60;smtp&#62;');
    expect(res.text).toContain('Winner: <strong>B</strong>');
  });

  it.each([
    ['2026-W60', 'week'],
    ['2025-W53', 'week'],
    ['2026-49', 'week'],
  ])('refuses week=%s with a 400 naming %s', async (week, field) => {
    const res = await api.request<Problem>('GET', `/v1/reports/weekly?week=${week}`, { key: tenant.key });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]!.field).toBe(field);
  });

  it('validates report settings field by field, and never half-writes them', async () => {
    const put = (body: unknown, key = tenant.key) =>
      api.request<Problem & { delivery: string }>('PUT', '/v1/reports/settings', { key, body });
    expect((await put({ delivery: 'email', sender_account_id: smtpAccount })).body.errors[0]!.field).toBe(
      'recipients',
    );
    expect((await put({ delivery: 'email', recipients: ['x@example.test'] })).body.errors[0]!.field).toBe(
      'sender_account_id',
    );
    expect((await put({ delivery: 'fax' })).body.errors[0]!.field).toBe('delivery');
    expect(
      (await put({ delivery: 'email', sender_account_id: smtpAccount, recipients: ['not an address'] })).body
        .errors[0]!.field,
    ).toBe('recipients.0');
    const foreign = await put({ delivery: 'webhook', sender_account_id: webhookAccount });
    expect(foreign.status).toBe(404);
    expect(foreign.body.errors[0]!.field).toBe('sender_account_id');
    const wrong = await put({ delivery: 'webhook', sender_account_id: smtpAccount });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0]!.message).toMatch(/webhook account/);
    expect(
      (await api.request<{ delivery: string }>('GET', '/v1/reports/settings', { key: tenant.key })).body,
    ).toEqual({
      delivery: 'off',
      sender_account_id: null,
      recipients: [],
      updated_at: null,
    });
  });

  it('delivers each week once, by email (HTML + SVG and text) and by signed webhook, however often beat looks', async () => {
    const saved = await api.request<{ delivery: string; recipients: string[] }>(
      'PUT',
      '/v1/reports/settings',
      {
        key: tenant.key,
        body: {
          delivery: 'email',
          sender_account_id: smtpAccount,
          recipients: ['Boss@Example.test', 'boss@example.test'],
        },
      },
    );
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ delivery: 'email', recipients: ['boss@example.test'] });
    expect(
      (
        await api.request('PUT', '/v1/reports/settings', {
          key: other.key,
          body: { delivery: 'webhook', sender_account_id: webhookAccount },
        })
      ).status,
    ).toBe(200);

    const scheduler = api.app.get(WeeklyReportScheduler);
    // Monday 07:30 in Paris: not yet.
    expect(await scheduler.run(new Date('2026-12-07T06:30:00Z'))).toBe(0);
    expect(await scheduler.run(MONDAY_MORNING)).toBe(2);
    // Again, and later that week: nothing more.
    expect(await scheduler.run(MONDAY_MORNING)).toBe(0);
    expect(await scheduler.run(new Date('2026-12-09T15:00:00Z'))).toBe(0);

    expect(smtp.messages).toHaveLength(1);
    const mail = unQuotedPrintable(smtp.messages[0]!);
    expect(mail).toMatch(/^Subject: Reporter: your week 2026-W49 in Herald/m);
    expect(mail).toMatch(/^To: boss@example\.test/m);
    expect(mail).toMatch(/Content-Type: multipart\/alternative/);
    expect(mail).toMatch(/Content-Type: text\/plain/);
    expect(mail).toMatch(/Content-Type: text\/html/);
    expect(mail).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(mail).toContain('- Spring & "sale": 40 sent, 40 delivered');

    expect(hooks.delivered.size).toBe(1);
    expect(hooks.badSignatures).toBe(0);
    const hook = hooks.delivered.get(`weekly-report:${other.id}:2026-W49`);
    expect(hook?.body).toMatchObject({
      type: 'weekly_report',
      report: { tenant_id: other.id, week: '2026-W49' },
    });

    const rows = await api.query<{ tenant_id: string; status: string; delivery: string; attempts: number }>(
      `SELECT tenant_id, status, delivery, attempts FROM weekly_reports ORDER BY delivery`,
    );
    expect(rows).toEqual([
      { tenant_id: tenant.id, status: 'delivered', delivery: 'email', attempts: 1 },
      { tenant_id: other.id, status: 'delivered', delivery: 'webhook', attempts: 1 },
    ]);
  });

  it('tries a failed delivery again at the next ticks, three times at most', async () => {
    hooks.behaviour = { mode: 'fail', status: 500 };
    const scheduler = api.app.get(WeeklyReportScheduler);
    const nextMonday = new Date('2026-12-14T08:00:00Z');
    for (let i = 0; i < 5; i += 1) expect(await scheduler.run(nextMonday)).toBe(i === 0 ? 1 : 0); // the email still goes
    const [row] = await api.query<{ status: string; attempts: number; last_error: string }>(
      `SELECT status, attempts, last_error FROM weekly_reports WHERE tenant_id = $1 AND week = '2026-W50'`,
      [other.id],
    );
    expect(row).toEqual({ status: 'failed', attempts: 3, last_error: 'webhook answered 500' });
    expect(hooks.failuresAnswered).toBe(3);
    hooks.behaviour = { mode: 'accept' };
  });

  it('takes again a report whose beat died after claiming it, once the claim is older than its lease', async () => {
    const scheduler = api.app.get(WeeklyReportScheduler);
    // Both tenants' week 2026-W51 was claimed, then their beat died: one claim is stale, one fresh.
    await api.query(
      `INSERT INTO weekly_reports (tenant_id, week, status, attempts, claimed_at)
       VALUES ($1, '2026-W51', 'pending', 1, now() - make_interval(secs => $3 + 60)),
              ($2, '2026-W51', 'pending', 1, now() - interval '1 minute')`,
      [other.id, tenant.id, REPORT_CLAIM_LEASE_SECONDS],
    );
    const before = hooks.delivered.size;
    const mails = smtp.messages.length;
    expect(await scheduler.run(new Date('2026-12-21T08:00:00Z'))).toBe(1);
    expect(await scheduler.run(new Date('2026-12-21T08:05:00Z'))).toBe(0);
    expect(hooks.delivered.size).toBe(before + 1);
    expect(hooks.delivered.get(`weekly-report:${other.id}:2026-W51`)).toBeDefined();
    expect(smtp.messages).toHaveLength(mails); // the fresh claim is still its beat's
    const rows = await api.query<{ tenant_id: string; status: string; attempts: number }>(
      `SELECT tenant_id, status, attempts FROM weekly_reports WHERE week = '2026-W51' ORDER BY status`,
    );
    expect(rows).toEqual([
      { tenant_id: other.id, status: 'delivered', attempts: 2 },
      { tenant_id: tenant.id, status: 'pending', attempts: 1 },
    ]);
  });
});
