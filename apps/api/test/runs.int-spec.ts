import { JobProducer } from '@herald/queues';
import { TestApi } from '../../../test/support/api-app';

type Started = { id: string; status: string; dry_run: boolean };
type Run = {
  id: string;
  campaign_id: string;
  status: string;
  trigger: string;
  dry_run: boolean;
  counts: Record<'targeted' | 'pending' | 'sent' | 'failed' | 'skipped' | 'deferred' | 'cancelled', number>;
  started_at: string | null;
  finished_at: string | null;
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
    account = (
      await api.request<{ id: string }>('POST', '/v1/sender-accounts', {
        key: tenant.key,
        body: {
          name: 'Hook',
          channel: 'webhook',
          config: { url: 'https://hooks.example.com/in', secret: 'x'.repeat(32) },
        },
      })
    ).body.id;
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
      counts: { targeted: 0, pending: 0, sent: 0, failed: 0, skipped: 0, deferred: 0, cancelled: 0 },
      started_at: null,
      finished_at: null,
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
    await seedDeliveries(runId, id, ['pending', 'sending', 'sent', 'sent', 'failed', 'skipped', 'deferred']);
    const run = await getRun(runId);
    expect(run.body.status).toBe('running');
    expect(run.body.counts).toEqual({
      targeted: 7,
      pending: 2,
      sent: 2,
      failed: 1,
      skipped: 1,
      deferred: 1,
      cancelled: 0,
    });
    expect(run.body.started_at).toEqual(expect.any(String));
  });

  it('cancels a run: pending and deferred deliveries are cancelled, sent and in-flight ones are left alone', async () => {
    const id = await campaign();
    const runId = (await start(id)).body.id;
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
    expect((await api.request('DELETE', `/v1/campaigns/${id}`, { key: tenant.key })).status).toBe(204);
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
});
