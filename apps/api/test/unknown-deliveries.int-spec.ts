import { messageIdFor } from '@herald/channels';
import { DeliveryPipeline } from '@herald/deliveries';
import { JobProducer, QUEUES } from '@herald/queues';
import { SmtpSink, TEST_ADMIN_KEY } from '@herald/testing';
import { TestApi } from '../../../test/support/api-app';

interface Delivery {
  id: string;
  tenant_id: string;
  delivery_key: string;
  status: string;
  attempts: number;
  last_error: string | null;
}
interface Page {
  data: Delivery[];
  next_cursor: string | null;
}
interface Problem {
  detail: string;
  errors: { field: string; message: string }[];
}

const UNKNOWN = 'outcome unknown: the attempt sending it stopped before recording';

/**
 * Deliveries held as `unknown` (a crash left their send's outcome unknown, and their account is
 * at-most-once): listed, resent or closed by an operator — a tenant admin for its tenant, the
 * platform admin for any — and counted in their run and in /metrics.
 */
describe('deliveries whose outcome is unknown (API)', () => {
  let api: TestApi;
  let sink: SmtpSink;
  let a: { id: string; key: string };
  let b: { id: string; key: string };
  let readKey: string;
  let writeKey: string;
  let smtpAccount: string;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    api = await TestApi.start({ OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true' }, { opsListener: true });
    a = await api.createTenant('A');
    b = await api.createTenant('B');
    const key = async (scopes: string[]) =>
      (
        await api.request<{ key: string }>('POST', '/v1/api-keys', {
          key: a.key,
          body: { name: 'k', scopes },
        })
      ).body.key;
    readKey = await key(['read']);
    writeKey = await key(['write']);
    smtpAccount = (await account(a.key, 'smtp')).body.id;
  });
  afterAll(async () => {
    await api?.close();
    await sink?.stop();
  });

  function account(key: string, channel: 'smtp' | 'webhook', extra: Record<string, unknown> = {}) {
    const config =
      channel === 'smtp'
        ? {
            host: '127.0.0.1',
            port: sink.port,
            secure: false,
            username: 'u',
            password: 'p',
            from: 'Team <team@example.com>',
          }
        : { url: 'https://hooks.example.com/in', secret: 'x'.repeat(32) };
    return api.request<{ id: string; delivery_guarantee: string } & Problem>('POST', '/v1/sender-accounts', {
      key,
      body: { name: channel, channel, config, ...extra },
    });
  }

  /** A run of `n` contacts whose deliveries a crashed worker left `unknown`. */
  async function crashedRun(
    tenantId: string,
    accountId: string,
    n: number,
  ): Promise<{ runId: string; ids: string[] }> {
    const [campaign] = await api.query<{ id: string }>(
      `INSERT INTO campaigns (tenant_id, id, name, kind, sender_account_id, steps)
       VALUES ($1, uuidv7(), 'News', 'broadcast', $2, '[{"subject": "Hi", "body": "Hello"}]') RETURNING id`,
      [tenantId, accountId],
    );
    const [run] = await api.query<{ id: string }>(
      `INSERT INTO campaign_runs (tenant_id, id, campaign_id, trigger, status, fanout_done, targeted, started_at)
       VALUES ($1, uuidv7(), $2, 'manual', 'completed', true, $3, now()) RETURNING id`,
      [tenantId, campaign!.id, n],
    );
    const rows = await api.query<{ id: string }>(
      `WITH c AS (
         INSERT INTO contacts (tenant_id, id, email, created_at)
         SELECT $1, uuidv7(), 'u' || i || '-' || $3::text || '@example.test', now() FROM generate_series(1, $4::int) AS i
         RETURNING id)
       INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, run_id, contact_id, sender_account_id, channel,
                               status, attempts, last_error, created_at)
       SELECT $1, uuidv7(), 'bc:' || $3::text || ':' || c.id, $2::uuid, $3::uuid, c.id, $5::uuid, 'smtp', 'unknown', 1, $6,
              clock_timestamp()
         FROM c ORDER BY c.id
       RETURNING id`,
      [tenantId, campaign!.id, run!.id, n, accountId, `${UNKNOWN} whether the provider accepted it`],
    );
    return { runId: run!.id, ids: rows.map((r) => r.id).sort() };
  }

  it('gives a sender account the guarantee of its channel unless it chooses one', async () => {
    expect((await account(a.key, 'smtp')).body.delivery_guarantee).toBe('at_most_once');
    expect((await account(a.key, 'webhook')).body.delivery_guarantee).toBe('at_least_once');
    const chosen = await account(a.key, 'smtp', { delivery_guarantee: 'at_least_once' });
    expect(chosen.status).toBe(201);
    expect(chosen.body.delivery_guarantee).toBe('at_least_once');
    const bad = await account(a.key, 'smtp', { delivery_guarantee: 'exactly_once' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([
      { field: 'delivery_guarantee', message: 'must be at_most_once or at_least_once' },
    ]);
  });

  it('lists them page by page: a tenant admin its own, the platform admin every tenant’s', async () => {
    const mine = await crashedRun(a.id, smtpAccount, 3);
    const bAccount = (await account(b.key, 'smtp')).body.id;
    const theirs = await crashedRun(b.id, bAccount, 1);
    const first = await api.request<Page>('GET', '/v1/deliveries?status=unknown&limit=2', { key: a.key });
    expect(first.status).toBe(200);
    expect(first.body.data.map((d) => d.id)).toEqual(mine.ids.slice(0, 2));
    expect(first.body.data[0]).toMatchObject({ status: 'unknown', tenant_id: a.id, attempts: 1 });
    const second = await api.request<Page>(
      'GET',
      `/v1/deliveries?status=unknown&limit=2&cursor=${first.body.next_cursor}`,
      { key: a.key },
    );
    expect(second.body).toEqual({ data: [expect.objectContaining({ id: mine.ids[2] })], next_cursor: null });
    const all = await api.request<Page>('GET', '/v1/deliveries?status=unknown', { key: TEST_ADMIN_KEY });
    expect(all.body.data.map((d) => d.id)).toEqual(expect.arrayContaining([...mine.ids, ...theirs.ids]));
    const run = await api.request<{ counts: Record<string, number>; progress: { done: number } }>(
      'GET',
      `/v1/runs/${mine.runId}`,
      { key: a.key },
    );
    expect(run.body.counts).toMatchObject({ unknown: 3, sent: 0, pending: 0 });
    expect(run.body.progress.done).toBe(3);
  });

  it('names the field when the query is wrong', async () => {
    for (const [query, field] of [
      ['?status=sent', 'status'],
      ['?status=unknown&limit=0', 'limit'],
      ['?cursor=nonsense', 'cursor'],
    ] as const) {
      const res = await api.request<Problem>('GET', `/v1/deliveries${query}`, { key: a.key });
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e) => e.field)).toEqual([field]);
    }
    // `unknown` is the default (and the only listing for now).
    expect((await api.request('GET', '/v1/deliveries', { key: a.key })).status).toBe(200);
  });

  it('is for operators: a read or write key is refused', async () => {
    const { ids } = await crashedRun(a.id, smtpAccount, 1);
    for (const key of [readKey, writeKey]) {
      expect((await api.request('GET', '/v1/deliveries?status=unknown', { key })).status).toBe(403);
      expect((await api.request('POST', `/v1/deliveries/${ids[0]}/resend`, { key, body: {} })).status).toBe(
        403,
      );
    }
  });

  it('resends one: pending with a job of its own, sent once, and a second resend is a 409', async () => {
    const { ids } = await crashedRun(a.id, smtpAccount, 1);
    const id = ids[0]!;
    expect((await api.request('POST', `/v1/deliveries/${id}/resend`, { key: b.key, body: {} })).status).toBe(
      404,
    );
    const res = await api.request<Delivery>('POST', `/v1/deliveries/${id}/resend`, {
      key: a.key,
      body: { reason: 'no trace at the provider' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id,
      status: 'pending',
      last_error: 'resent by an operator: no trace at the provider',
    });
    const job = await api.app.get(JobProducer).queue(QUEUES.deliveries).getJob(`${id}-resend-1`);
    expect(job?.data).toMatchObject({ payload: { tenant_id: a.id, delivery_id: id, resend: 1 } });
    const again = await api.request<Problem>('POST', `/v1/deliveries/${id}/resend`, { key: a.key, body: {} });
    expect(again.status).toBe(409);
    expect(again.body.detail).toBe(
      'This delivery is pending: only a delivery whose outcome is unknown can be resent or closed.',
    );
    // What the worker does with that job: sends it, once.
    const outcome = await api.app.get(DeliveryPipeline).handle({ tenantId: a.id, deliveryId: id });
    expect(outcome).toEqual({ kind: 'sent' });
    expect(sink.messages.get(messageIdFor(res.body.delivery_key))?.count).toBe(1);
    const [row] = await api.query<{ status: string; attempts: number }>(
      'SELECT status, attempts FROM deliveries WHERE id = $1',
      [id],
    );
    expect(row).toEqual({ status: 'sent', attempts: 2 });
  });

  it('closes them as sent or failed with the operator’s reason, and their interactions say so', async () => {
    const { ids } = await crashedRun(a.id, smtpAccount, 2);
    const [sentId, failedId] = ids as [string, string];
    const missing = await api.request<Problem>('POST', `/v1/deliveries/${sentId}/close`, {
      key: a.key,
      body: { outcome: 'delivered' },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.errors.map((e) => e.field).sort()).toEqual(['outcome', 'reason']);
    const sent = await api.request<Delivery>('POST', `/v1/deliveries/${sentId}/close`, {
      key: TEST_ADMIN_KEY,
      body: { outcome: 'sent', reason: 'in the provider log' },
    });
    expect(sent.body).toMatchObject({
      status: 'sent',
      last_error: 'closed as sent by an operator: in the provider log',
    });
    const failed = await api.request<Delivery>('POST', `/v1/deliveries/${failedId}/close`, {
      key: a.key,
      body: { outcome: 'failed', reason: 'not worth a second copy' },
    });
    expect(failed.body.status).toBe('failed');
    expect(
      (
        await api.request('POST', `/v1/deliveries/${failedId}/close`, {
          key: a.key,
          body: { outcome: 'sent', reason: 'x' },
        })
      ).status,
    ).toBe(409);
    const interactions = await api.query<{ type: string; payload: Record<string, unknown> }>(
      `SELECT type, payload FROM interactions WHERE payload->>'delivery_id' = ANY ($1::text[]) ORDER BY type DESC`,
      [[sentId, failedId]],
    );
    expect(interactions).toEqual([
      {
        type: 'delivery_sent',
        payload: expect.objectContaining({ delivery_id: sentId, closed_by_operator: true }) as unknown,
      },
      {
        type: 'delivery_failed',
        payload: expect.objectContaining({
          delivery_id: failedId,
          closed_by_operator: true,
          permanent: true,
        }) as unknown,
      },
    ]);
  });

  it('reports how many wait for an operator in /metrics, per channel', async () => {
    const [expected] = await api.query<{ n: string }>(
      `SELECT count(*) AS n FROM deliveries WHERE status = 'unknown' AND channel = 'smtp'`,
    );
    const text = await (await fetch(`${api.opsUrl}/metrics`)).text();
    expect(text).toContain(`herald_deliveries_unknown{channel="smtp"} ${expected!.n}`);
    expect(text).toContain('herald_deliveries_unknown{channel="webhook"} 0');
  });
});
