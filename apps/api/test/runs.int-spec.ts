import { JobProducer } from '@herald/queues';
import { register } from 'prom-client';
import { TestApi } from '../../../test/support/api-app';

type Started = { id: string; status: string; dry_run: boolean };
type Run = {
  id: string;
  campaign_id: string;
  status: string;
  trigger: string;
  dry_run: boolean;
  counts: Record<
    'targeted' | 'pending' | 'sent' | 'failed' | 'skipped' | 'deferred' | 'cancelled' | 'unknown',
    number
  >;
  started_at: string | null;
  finished_at: string | null;
  progress: { done: number; total: number; ratio: number; fanout_done: boolean };
  rate_per_second: number;
  eta: string | null;
  eta_reason: 'rate' | 'quota' | null;
  forecast: {
    audience: number;
    targeted: number;
    already_sent_keys: number;
    skipped: { suppressed: number; run_cap: number; quota: number };
    by_day: { date: string; count: number }[];
    finishes_at: string | null;
    summary: string;
  } | null;
};
type Recipients = {
  data: {
    contact_id: string;
    email: string | null;
    delivery_key: string;
    subject: string | null;
    render_error: string | null;
    due_at: string | null;
  }[];
  next_cursor: string | null;
};
type Problem = { type: string; status: number; errors: { field: string; message: string }[]; detail: string };

/**
 * Runs through the API, without a worker: what the API writes (the run, its outbox row, the job
 * on the queue), what it reads back from the ledger, and cancellation. The worker's side is
 * test/e2e/broadcast-api.e2e-spec.ts.
 */
describe('runs API', () => {
  let api: TestApi;
  let tenant: { id: string; key: string };
  let other: { id: string; key: string };
  let account: string;

  beforeAll(async () => {
    api = await TestApi.start();
    tenant = await api.createTenant('Runs');
    other = await api.createTenant('Other');
    account = await api.createWebhookAccount(tenant.key);
    const contacts = [
      ...Array.from({ length: 6 }, (_, i) => ({ email: `vip${i}@example.com`, tags: ['vip'] })),
      { email: 'gone@example.com', tags: ['vip'], status: 'unsubscribed' },
      { email: 'plain@example.com' },
    ];
    const imported = await api.request<{ created: number }>('POST', '/v1/contacts/import', {
      key: tenant.key,
      body: contacts,
    });
    expect(imported.body.created).toBe(8);
  });
  afterAll(async () => {
    await api.close();
  });

  const campaign = async (overrides: Record<string, unknown> = {}) =>
    (
      await api.request<{ id: string }>('POST', '/v1/campaigns', {
        key: tenant.key,
        body: {
          name: 'Broadcast',
          kind: 'broadcast',
          sender_account_id: account,
          steps: [{ body: 'Hello {{ first_name | "there" }}' }],
          ...overrides,
        },
      })
    ).body.id;
  const start = (
    campaignId: string,
    body?: unknown,
    headers: Record<string, string> = {},
    key = tenant.key,
  ) => api.request<Started & Problem>('POST', `/v1/campaigns/${campaignId}/runs`, { key, body, headers });
  const getRun = (id: string, key = tenant.key) =>
    api.request<Run & Problem>('GET', `/v1/runs/${id}`, { key });
  const recipients = (id: string, query = '', key = tenant.key) =>
    api.request<Recipients & Problem>('GET', `/v1/runs/${id}/recipients${query}`, { key });
  /** A sender account with quotas, counted in UTC (so the test can tell where days start). */
  const quotaAccount = async (quotas: Record<string, number>, key = tenant.key) =>
    (
      await api.request<{ id: string }>('POST', '/v1/sender-accounts', {
        key,
        body: {
          name: 'Limited',
          channel: 'webhook',
          config: { url: 'https://hooks.example.com/in', secret: 'x'.repeat(32) },
          quotas,
          time_zone: 'UTC',
        },
      })
    ).body.id;
  const utcDay = (offsetDays: number) => {
    const d = new Date();
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + offsetDays));
  };
  const cancel = (id: string, key = tenant.key) =>
    api.request<Run & Problem>('POST', `/v1/runs/${id}/cancel`, { key });
  const outboxOf = (runId: string) =>
    api.query<{
      tenant_id: string;
      queue: string;
      job_name: string;
      payload: unknown;
      dispatched_at: Date | null;
    }>('SELECT tenant_id, queue, job_name, payload, dispatched_at FROM outbox WHERE job_id = $1', [runId]);

  /** Ledger rows for a run, as the fan-out would write them (no worker runs here). */
  const seedDeliveries = async (runId: string, campaignId: string, statuses: string[]) => {
    const contacts = await api.query<{ id: string }>(
      'SELECT id FROM contacts WHERE tenant_id = $1 ORDER BY id LIMIT $2',
      [tenant.id, statuses.length],
    );
    await api.query(
      `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, run_id, contact_id, sender_account_id, channel, status)
       SELECT $1, gen_random_uuid(), 'bc:' || $2 || ':' || c, $3, $2::uuid, c, $4, 'webhook', s
         FROM unnest($5::uuid[], $6::text[]) AS t (c, s)`,
      [tenant.id, runId, campaignId, account, contacts.map((c) => c.id), statuses],
    );
    await api.query(
      `UPDATE campaign_runs SET status = 'running', started_at = now(), targeted = $2 WHERE id = $1`,
      [runId, statuses.length],
    );
  };

  it('accepts a run (202): the run and its outbox row in one transaction, then the job on the queue', async () => {
    const id = await campaign();
    const res = await start(id, { dry_run: false });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.any(String) as string, status: 'queued', dry_run: false });
    const runId = res.body.id;

    const [row] = await api.query<{ campaign_id: string; trigger: string; status: string }>(
      'SELECT campaign_id, trigger, status FROM campaign_runs WHERE id = $1',
      [runId],
    );
    expect(row).toEqual({ campaign_id: id, trigger: 'manual', status: 'queued' });
    const outbox = await outboxOf(runId);
    expect(outbox).toEqual([
      {
        tenant_id: tenant.id,
        queue: 'runs',
        job_name: 'runs.fanout',
        payload: { tenant_id: tenant.id, run_id: runId },
        dispatched_at: expect.any(Date) as Date,
      },
    ]);
    const job = await api.app.get(JobProducer).queue('runs').getJob(runId);
    expect(job?.name).toBe('runs.fanout');
    expect((job?.data as { payload: unknown }).payload).toEqual({ tenant_id: tenant.id, run_id: runId });

    const run = await getRun(runId);
    expect(run.body).toMatchObject({
      id: runId,
      campaign_id: id,
      status: 'queued',
      trigger: 'manual',
      dry_run: false,
      counts: {
        targeted: 0,
        pending: 0,
        sent: 0,
        failed: 0,
        skipped: 0,
        deferred: 0,
        cancelled: 0,
        unknown: 0,
      },
      started_at: null,
      finished_at: null,
      progress: { done: 0, total: 0, ratio: 0, fanout_done: false },
      rate_per_second: 0,
      eta: null,
      eta_reason: null,
      forecast: null,
    });

    // One run at a time: a second start while this one is queued is a conflict, and writes nothing.
    const second = await start(id);
    expect(second.status).toBe(409);
    expect(second.body.detail).toContain(runId);
    expect(await api.query('SELECT 1 FROM campaign_runs WHERE campaign_id = $1', [id])).toHaveLength(1);
  });

  it('replays a start with the same Idempotency-Key: one run, one outbox row', async () => {
    const id = await campaign();
    const headers = { 'idempotency-key': `run-${id}` };
    const first = await start(id, {}, headers);
    const again = await start(id, {}, headers);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await api.query('SELECT 1 FROM campaign_runs WHERE campaign_id = $1', [id])).toHaveLength(1);
    expect(await outboxOf(first.body.id)).toHaveLength(1);
  });

  it('counts a run’s deliveries by status from the ledger (pending includes sending)', async () => {
    const id = await campaign();
    const runId = (await start(id)).body.id;
    await seedDeliveries(runId, id, [
      'pending',
      'sending',
      'sent',
      'sent',
      'failed',
      'skipped',
      'deferred',
      'unknown',
    ]);
    const run = await getRun(runId);
    expect(run.body.status).toBe('running');
    expect(run.body.counts).toEqual({
      targeted: 8,
      pending: 2,
      sent: 2,
      failed: 1,
      skipped: 1,
      deferred: 1,
      cancelled: 0,
      unknown: 1,
    });
    // Held for an operator is done, as far as the run's progress goes.
    expect(run.body.progress.done).toBe(5);
    expect(run.body.started_at).toEqual(expect.any(String));
  });

  /** herald_campaign_runs_total for manual broadcast runs that ended `outcome`. */
  const runsEnded = async (outcome: string) =>
    (await register.getSingleMetric('herald_campaign_runs_total')?.get())?.values.find(
      (v) => v.labels.kind === 'broadcast' && v.labels.trigger === 'manual' && v.labels.outcome === outcome,
    )?.value ?? 0;

  it('cancels a run: pending and deferred deliveries are cancelled, sent and in-flight ones are left alone', async () => {
    const id = await campaign();
    const runId = (await start(id)).body.id;
    const cancelledBefore = await runsEnded('cancelled');
    await seedDeliveries(runId, id, ['pending', 'pending', 'deferred', 'sending', 'sent']);
    const res = await cancel(runId);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    expect(res.body.finished_at).toEqual(expect.any(String));
    expect(res.body.counts).toMatchObject({ pending: 1, sent: 1, deferred: 0, cancelled: 3 });
    const ledger = await api.query<{ status: string; last_error: string | null }>(
      `SELECT status, last_error FROM deliveries WHERE run_id = $1 AND status = 'cancelled'`,
      [runId],
    );
    expect(ledger.map((d) => d.last_error)).toEqual(['run cancelled', 'run cancelled', 'run cancelled']);

    const again = await cancel(runId);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
    // Counted once, though cancelled twice.
    expect(await runsEnded('cancelled')).toBe(cancelledBefore + 1);
    // Cancelled: the campaign may run again.
    expect((await start(id)).status).toBe(202);
  });

  it('refuses to cancel a finished run (409) and changes nothing', async () => {
    const id = await campaign();
    const runId = (await start(id)).body.id;
    await seedDeliveries(runId, id, ['sent']);
    await api.query(`UPDATE campaign_runs SET status = 'completed', finished_at = now() WHERE id = $1`, [
      runId,
    ]);
    const res = await cancel(runId);
    expect(res.status).toBe(409);
    expect(res.body.type).toBe('https://herald.dev/problems/conflict');
    expect((await getRun(runId)).body.status).toBe('completed');
  });

  it('archiving a campaign cancels its run in progress', async () => {
    const id = await campaign();
    const runId = (await start(id)).body.id;
    await seedDeliveries(runId, id, ['pending', 'sent']);
    const cancelledBefore = await runsEnded('cancelled');
    expect((await api.request('DELETE', `/v1/campaigns/${id}`, { key: tenant.key })).status).toBe(204);
    expect(await runsEnded('cancelled')).toBe(cancelledBefore + 1);
    const run = await getRun(runId);
    expect(run.body).toMatchObject({ status: 'cancelled', counts: { pending: 0, sent: 1, cancelled: 1 } });
    const archived = await start(id);
    expect(archived.status).toBe(409);
    expect(archived.body.detail).toBe('This campaign is archived.');
  });

  it('a dry run counts the audience and sends nothing', async () => {
    const vip = await campaign({ audience: { tags: ['vip'] } });
    const res = await start(vip, { dry_run: true });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'completed', dry_run: true });
    const run = await getRun(res.body.id);
    // Six active vip contacts; the unsubscribed one is never targeted.
    expect(run.body).toMatchObject({
      status: 'completed',
      dry_run: true,
      counts: { targeted: 6, pending: 0, sent: 0 },
    });
    expect(run.body.finished_at).toEqual(expect.any(String));
    expect(await outboxOf(res.body.id)).toEqual([]);
    expect(await api.query('SELECT 1 FROM deliveries WHERE run_id = $1', [res.body.id])).toEqual([]);
    expect(await api.app.get(JobProducer).queue('runs').getJob(res.body.id)).toBeUndefined();

    const everyone = await start(await campaign(), { dry_run: true });
    expect((await getRun(everyone.body.id)).body.counts.targeted).toBe(7);
    // A dry run does not hold the campaign: a real run may start right after.
    expect((await start(vip)).status).toBe(202);
  });

  it('shows progress, the recent send rate and an eta from the rate when the quota does not bind', async () => {
    const id = await campaign();
    const runId = (await start(id)).body.id;
    await seedDeliveries(runId, id, ['pending', 'pending', 'pending', 'sent', 'sent', 'failed']);
    await api.query(
      `UPDATE deliveries SET sent_at = now() - interval '10 seconds' WHERE run_id = $1 AND status = 'sent'`,
      [runId],
    );
    await api.query(
      `UPDATE campaign_runs SET fanout_done = true, started_at = now() - interval '2 minutes' WHERE id = $1`,
      [runId],
    );
    const before = Date.now();
    const run = (await getRun(runId)).body;
    expect(run.progress).toEqual({ done: 3, total: 6, ratio: 0.5, fanout_done: true });
    // 2 sends in the last minute: 2/60 per second; 3 left → 90 s from now.
    expect(run.rate_per_second).toBeCloseTo(2 / 60, 2);
    expect(run.eta_reason).toBe('rate');
    const eta = Date.parse(run.eta!);
    expect(eta).toBeGreaterThanOrEqual(before + 85_000);
    expect(eta).toBeLessThanOrEqual(Date.now() + 95_000);
    expect(run.forecast).toBeNull();
  });

  it('gives the eta from the quota when the windows hold deliveries back (daily 2: 5 left → two days on)', async () => {
    const limited = await quotaAccount({ daily: 2 });
    const id = await campaign({ sender_account_id: limited });
    const runId = (await start(id)).body.id;
    await seedDeliveries(runId, id, ['pending', 'pending', 'deferred', 'deferred', 'pending', 'sent']);
    await api.query(
      `UPDATE deliveries SET sender_account_id = $2, sent_at = now() WHERE run_id = $1 AND status = 'sent'`,
      [runId, limited],
    );
    await api.query(`UPDATE campaign_runs SET fanout_done = true WHERE id = $1`, [runId]);
    const run = (await getRun(runId)).body;
    // 2 today, 2 at tomorrow's UTC midnight, the last at the midnight after.
    expect(run).toMatchObject({ eta: utcDay(2).toISOString(), eta_reason: 'quota' });
    expect(run.progress).toMatchObject({ done: 1, total: 6, fanout_done: true });
  });

  it('a dry run forecasts who, what and when under the quota, the run cap and suppressions, and sends nothing', async () => {
    const limited = await quotaAccount({ daily: 3 });
    const vip = await campaign({
      audience: { tags: ['vip'] },
      sender_account_id: limited,
      steps: [{ subject: 'News for {{ email }}', body: 'Hello {{ first_name | "there" }}' }],
    });
    const res = await start(vip, { dry_run: true });
    expect(res.status).toBe(202);
    const run = (await getRun(res.body.id)).body;
    const today = utcDay(0).toISOString().slice(0, 10);
    const tomorrow = utcDay(1).toISOString().slice(0, 10);
    expect(run).toMatchObject({
      status: 'completed',
      dry_run: true,
      counts: { targeted: 6, sent: 0 },
      progress: { done: 0, total: 6, ratio: 1, fanout_done: true },
      eta: null,
      forecast: {
        audience: 6,
        targeted: 6,
        already_sent_keys: 0,
        skipped: { suppressed: 0, run_cap: 0, quota: 0 },
        by_day: [
          { date: today, count: 3 },
          { date: tomorrow, count: 3 },
        ],
        finishes_at: utcDay(1).toISOString(),
        summary: '6 targeted, 3 today, the rest over 1 day',
      },
    });
    expect(await api.query('SELECT 1 FROM deliveries WHERE run_id = $1', [res.body.id])).toEqual([]);
    expect(await outboxOf(res.body.id)).toEqual([]);

    // The run cap, the skip policy and a suppression each leave contacts out.
    const [first] = await api.query<{ id: string; email: string }>(
      `SELECT id, email FROM contacts WHERE tenant_id = $1 AND 'vip' = ANY (tags) AND status = 'active' ORDER BY id LIMIT 1`,
      [tenant.id],
    );
    await api.query(
      `INSERT INTO suppressions (tenant_id, id, email, reason) VALUES ($1, gen_random_uuid(), $2, 'manual')`,
      [tenant.id, first!.email],
    );
    try {
      const capped = await campaign({ audience: { tags: ['vip'] }, sender_account_id: limited, run_cap: 4 });
      const cappedRun = (await getRun((await start(capped, { dry_run: true })).body.id)).body;
      expect(cappedRun.forecast).toMatchObject({
        audience: 6,
        targeted: 4,
        skipped: { suppressed: 1, run_cap: 1, quota: 0 },
      });
      expect(cappedRun.counts.targeted).toBe(4);
      const skip = await campaign({
        audience: { tags: ['vip'] },
        sender_account_id: limited,
        quota_policy: 'skip',
      });
      const skipRun = (await getRun((await start(skip, { dry_run: true })).body.id)).body;
      expect(skipRun.forecast).toMatchObject({
        targeted: 3,
        skipped: { suppressed: 1, run_cap: 0, quota: 2 },
        by_day: [{ date: today, count: 3 }],
        summary: '3 targeted, all today; skipped: 1 suppressed, 2 without quota room',
      });
      const page = (await recipients(skipRun.id, '?limit=10')).body;
      expect(page.data.map((r) => r.contact_id)).not.toContain(first!.id);
      expect(page.data).toHaveLength(3);
    } finally {
      await api.query(`DELETE FROM suppressions WHERE tenant_id = $1`, [tenant.id]);
    }
  });

  it('pages a dry run’s recipients: keys, rendered subjects and due times in send order', async () => {
    const limited = await quotaAccount({ daily: 3 });
    const vip = await campaign({
      audience: { tags: ['vip'] },
      sender_account_id: limited,
      steps: [{ subject: 'News for {{ email }}', body: 'Hello {{ first_name }}' }],
    });
    const runId = (await start(vip, { dry_run: true })).body.id;
    const first = await recipients(runId, '?limit=4');
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(4);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await recipients(runId, `?limit=4&cursor=${first.body.next_cursor}`);
    expect(second.body.data).toHaveLength(2);
    expect(second.body.next_cursor).toBeNull();
    const all = [...first.body.data, ...second.body.data];
    const vips = await api.query<{ id: string; email: string }>(
      `SELECT id, email FROM contacts WHERE tenant_id = $1 AND 'vip' = ANY (tags) AND status = 'active' ORDER BY id`,
      [tenant.id],
    );
    expect(all.map((r) => r.contact_id)).toEqual(vips.map((c) => c.id));
    expect(all[0]).toEqual({
      contact_id: vips[0]!.id,
      email: vips[0]!.email,
      delivery_key: `bc:${runId}:${vips[0]!.id}`,
      subject: `News for ${vips[0]!.email}`,
      // No first_name and no fallback: the pipeline would fail this delivery, and says why here.
      render_error: 'template variable "first_name" has no value and no fallback',
      due_at: expect.any(String) as string,
    });
    // Three go now (the forecast's instant), three at the next UTC midnight.
    const due = all.map((r) => r.due_at);
    expect(new Set(due.slice(0, 3)).size).toBe(1);
    expect(Date.parse(due[0]!)).toBeLessThanOrEqual(Date.now());
    expect(due.slice(3)).toEqual(Array(3).fill(utcDay(1).toISOString()));

    // A whole page at once; a bad cursor; a real run (409) and another tenant (404).
    expect((await recipients(runId, '?limit=1000')).body.data).toHaveLength(6);
    expect((await recipients(runId, '?cursor=nope')).status).toBe(400);
    const real = (await start(await campaign())).body.id;
    const conflict = await recipients(real);
    expect(conflict.status).toBe(409);
    expect(conflict.body.type).toBe('https://herald.dev/problems/conflict');
    expect((await recipients(runId, '', other.key)).status).toBe(404);
  });

  it('a birthday dry run leaves out contacts already greeted this year (their key is in the ledger)', async () => {
    const account = await quotaAccount({}, other.key);
    const today = new Date().toLocaleDateString('en-CA', { timeZone: 'Europe/Paris' });
    const greeted = await api.request<{ id: string }>('POST', '/v1/contacts', {
      key: other.key,
      body: { email: 'bday1@example.com', first_name: 'Ada', birth_date: `1990-${today.slice(5)}` },
    });
    await api.request('POST', '/v1/contacts', {
      key: other.key,
      body: { email: 'bday2@example.com', first_name: 'Bob', birth_date: `1991-${today.slice(5)}` },
    });
    const bday = (
      await api.request<{ id: string }>('POST', '/v1/campaigns', {
        key: other.key,
        body: {
          name: 'Birthdays',
          kind: 'birthday',
          sender_account_id: account,
          steps: [{ subject: 'Happy birthday {{ first_name }}', body: 'Hi' }],
        },
      })
    ).body.id;
    await api.query(
      `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, contact_id, sender_account_id, channel, status)
       VALUES ($1, gen_random_uuid(), $2, $3, $4, $5, 'webhook', 'sent')`,
      [other.id, `bd:${bday}:${greeted.body.id}:${today.slice(0, 4)}`, bday, greeted.body.id, account],
    );
    const res = await start(bday, { dry_run: true }, {}, other.key);
    const run = (await getRun(res.body.id, other.key)).body;
    expect(run.forecast).toMatchObject({ audience: 2, targeted: 1, already_sent_keys: 1 });
    const page = (await recipients(res.body.id, '', other.key)).body;
    expect(page.data).toEqual([
      expect.objectContaining({
        email: 'bday2@example.com',
        subject: 'Happy birthday Bob',
        render_error: null,
      }),
    ]);
    expect(page.data[0]!.delivery_key).toMatch(new RegExp(`^bd:${bday}:[0-9a-f-]{36}:${today.slice(0, 4)}$`));
  });

  it('has no runs for sequences (they send to enrollments), and checks the body', async () => {
    const sequence = await campaign({ kind: 'sequence' });
    const res = await start(sequence);
    expect(res.status).toBe(409);
    expect(res.body.detail).toContain('/enrollments');
    const bad = await start(await campaign(), { dry_run: 'yes', now: true });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.field).sort()).toEqual(['dry_run', 'now']);
    expect((await start('0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f')).status).toBe(404);
    expect(await api.query('SELECT 1 FROM campaign_runs WHERE campaign_id = $1', [sequence])).toEqual([]);
  });

  it('is a 404 to another tenant: no reading, cancelling or starting', async () => {
    const id = await campaign();
    const runId = (await start(id)).body.id;
    expect((await getRun(runId, other.key)).status).toBe(404);
    expect((await cancel(runId, other.key)).status).toBe(404);
    expect((await start(id, {}, {}, other.key)).status).toBe(404);
    expect((await getRun(runId)).body.status).toBe('queued');
    expect(await api.query('SELECT 1 FROM campaign_runs WHERE campaign_id = $1', [id])).toHaveLength(1);
  });

  it('lists runs newest first in keyset pages, by status or campaign, and only the tenant’s own', async () => {
    const first = await campaign({ name: 'Listed A' });
    const second = await campaign({ name: 'Listed B' });
    const dry = (await start(first, { dry_run: true })).body.id;
    const real = (await start(second)).body.id;
    const list = (query: string, key = tenant.key) =>
      api.request<{ data: Run[]; next_cursor: string | null } & Problem>('GET', `/v1/runs${query}`, { key });

    const byCampaign = await list(`?campaign_id=${first}`);
    expect(byCampaign.status).toBe(200);
    expect(byCampaign.body.data.map((r) => [r.id, r.status, r.dry_run])).toEqual([[dry, 'completed', true]]);
    // The same document as GET /v1/runs/{id}.
    expect(byCampaign.body.data[0]).toEqual((await getRun(dry)).body);

    const queued = await list('?status=queued&limit=100');
    expect(queued.body.data.map((r) => r.id)).toContain(real);
    expect(queued.body.data.map((r) => r.id)).not.toContain(dry);
    expect(queued.body.data.every((r) => r.status === 'queued')).toBe(true);

    // Pages of one, newest first, until the cursor runs out: every run once, in creation order reversed.
    const seen: Run[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page = await list(`?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.data);
      cursor = page.body.next_cursor;
    }
    const all = await api.query<{ id: string }>(
      'SELECT id FROM campaign_runs WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC',
      [tenant.id],
    );
    expect(seen.map((r) => r.id)).toEqual(all.map((r) => r.id));
    expect(seen.slice(0, 2).map((r) => r.id)).toEqual([real, dry]);

    // Another tenant sees none of them.
    expect((await list('', other.key)).body.data.map((r) => r.id)).not.toContain(real);
    expect((await list(`?campaign_id=${first}`, other.key)).body.data).toEqual([]);

    const bad = await list('?status=done&limit=101&campaign_id=x&cursor=zz&extra=1');
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.field).sort()).toEqual(['campaign_id', 'extra', 'limit', 'status']);
  });
});
