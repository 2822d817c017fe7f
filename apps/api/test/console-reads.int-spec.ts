import { HeartbeatPublisher } from '@herald/queues';
import { TEST_ADMIN_KEY } from '@herald/testing';
import { randomUUID } from 'node:crypto';
import { TestApi } from '../../../test/support/api-app';
import { failSystemJobs } from '../../../test/support/failed-jobs';

type Entry = {
  kind: 'delivery' | 'interaction';
  id: string;
  at: string;
  delivery: { status: string; reason: string | null; due_at: string; run_id: string | null } | null;
  interaction: { type: string; payload: Record<string, unknown> } | null;
};
type Page<T> = { data: T[]; next_cursor: string | null };

/** The read APIs the console's pages need beyond what existed: a contact's timeline, an account's circuit, the fleet. */
describe('console read APIs', () => {
  let api: TestApi;
  let tenant: { id: string; key: string };
  let other: { id: string; key: string };
  let contact: string;
  let account: string;
  let campaign: string;

  const post = async <T = { id: string }>(key: string, path: string, body: unknown) => {
    const res = await api.request<T>('POST', path, { key, body });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
    return res.body;
  };

  /** A delivery row as the engine leaves it (the engine itself is exercised by its own suites). */
  const delivery = async (status: string, reason: string | null, createdAt: string, dueAt = createdAt) => {
    const id = randomUUID();
    await api.query(
      `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, contact_id, sender_account_id, channel,
                               status, last_error, created_at, updated_at, due_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'webhook', $7, $8, $9, $9, $10)`,
      [tenant.id, id, `key-${id}`, campaign, contact, account, status, reason, createdAt, dueAt],
    );
    return id;
  };

  beforeAll(async () => {
    api = await TestApi.start();
    tenant = await api.createTenant('Reads A');
    other = await api.createTenant('Reads B');
    contact = (await post(tenant.key, '/v1/contacts', { email: 'ada@example.com', first_name: 'Ada' })).id;
    account = (
      await post(tenant.key, '/v1/sender-accounts', {
        name: 'Hook',
        channel: 'webhook',
        config: { url: 'https://hooks.example/in', secret: 'x'.repeat(32) },
      })
    ).id;
    campaign = (
      await post(tenant.key, '/v1/campaigns', {
        name: 'News',
        kind: 'broadcast',
        sender_account_id: account,
        steps: [{ subject: 'Hi', body: 'Hello' }],
      })
    ).id;
  });

  afterAll(async () => {
    await api.close();
  });

  it('lists a contact’s deliveries (with why) and interactions, newest first, page by page', async () => {
    const skipped = await delivery('skipped', 'suppressed', '2026-11-20T10:00:00.000Z');
    const deferred = await delivery(
      'deferred',
      'quota: daily window full',
      '2026-11-21T10:00:00.000Z',
      '2026-11-22T00:00:00.000Z',
    );
    const sent = await delivery('sent', null, '2026-11-22T10:00:00.000Z');
    const note = await post(tenant.key, '/v1/interactions', {
      contact_id: contact,
      type: 'note',
      payload: { text: 'Met at the conference.' },
    });

    const first = await api.request<Page<Entry>>('GET', `/v1/contacts/${contact}/timeline?limit=2`, {
      key: tenant.key,
    });
    expect(first.status).toBe(200);
    expect(first.body.data.map((e) => e.id)).toEqual([note.id, sent]);
    expect(first.body.data[0]).toEqual(
      expect.objectContaining({
        kind: 'interaction',
        delivery: null,
        interaction: { type: 'note', payload: { text: 'Met at the conference.' } },
      }),
    );
    expect(first.body.next_cursor).toEqual(expect.any(String));

    const second = await api.request<Page<Entry>>(
      'GET',
      `/v1/contacts/${contact}/timeline?limit=2&cursor=${first.body.next_cursor}`,
      { key: tenant.key },
    );
    expect(second.body.data.map((e) => e.id)).toEqual([deferred, skipped]);
    expect(second.body.data[0]!.delivery).toEqual(
      expect.objectContaining({
        status: 'deferred',
        reason: 'quota: daily window full',
        due_at: '2026-11-22T00:00:00.000Z',
      }),
    );
    expect(second.body.data[1]!.delivery).toEqual(
      expect.objectContaining({ status: 'skipped', reason: 'suppressed' }),
    );
    expect(second.body.next_cursor).toBeNull();
  });

  it('keeps the timeline to its tenant and refuses bad paging', async () => {
    expect((await api.request('GET', `/v1/contacts/${contact}/timeline`, { key: other.key })).status).toBe(
      404,
    );
    expect(
      (await api.request('GET', `/v1/contacts/${randomUUID()}/timeline`, { key: tenant.key })).status,
    ).toBe(404);
    const bad = await api.request<{ errors: { field: string }[] }>(
      'GET',
      `/v1/contacts/${contact}/timeline?cursor=nope`,
      { key: tenant.key },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'cursor' })]);
    expect(
      (await api.request('GET', `/v1/contacts/${contact}/timeline`, { key: TEST_ADMIN_KEY })).status,
    ).toBe(403);
  });

  it('shows a sender account’s circuit to a read key, opened and closed', async () => {
    const reader = await post<{ key: string }>(tenant.key, '/v1/api-keys', { name: 'r', scopes: ['read'] });
    const closed = await api.request<{ state: string; open_until: string | null }>(
      'GET',
      `/v1/sender-accounts/${account}/circuit`,
      { key: reader.key },
    );
    expect(closed.status).toBe(200);
    expect(closed.body).toEqual(expect.objectContaining({ state: 'closed', open_until: null }));
    const opened = await api.request('POST', `/v1/admin/circuits/webhook:${account}/open`, {
      key: tenant.key,
      body: { duration_seconds: 120 },
    });
    expect(opened.status).toBe(200);
    const now = await api.request<{ state: string; open_until: string }>(
      'GET',
      `/v1/sender-accounts/${account}/circuit`,
      { key: reader.key },
    );
    expect(now.body.state).toBe('open');
    expect(Date.parse(now.body.open_until)).toBeGreaterThan(Date.now() + 60_000);
    expect(
      (await api.request('GET', `/v1/sender-accounts/${account}/circuit`, { key: other.key })).status,
    ).toBe(404);
  });

  it('lists live workers and failed jobs for the platform only', async () => {
    const none = await api.request<{ data: unknown[]; max_age_ms: number }>('GET', '/v1/admin/workers');
    expect(none.status).toBe(200);
    expect(none.body.data).toEqual([]);
    const publisher = api.app.get(HeartbeatPublisher);
    await publisher.beat();
    const workers = await api.request<{ data: { id: string; pid: number }[] }>('GET', '/v1/admin/workers');
    expect(workers.body.data).toEqual([expect.objectContaining({ id: publisher.id, pid: process.pid })]);
    expect((await api.request('GET', '/v1/admin/workers', { key: tenant.key })).status).toBe(403);

    await failSystemJobs(api, 'console-broken-1', 'console-broken-2');
    const failed = await api.request<{
      total: number;
      data: { id: string; failed_reason: string; attempts_made: number }[];
    }>('GET', '/v1/admin/queues/system/failed?limit=1');
    expect(failed.status).toBe(200);
    expect(failed.body.total).toBe(2);
    expect(failed.body.data).toHaveLength(1);
    expect(failed.body.data[0]).toEqual(expect.objectContaining({ failed_reason: 'boom', attempts_made: 1 }));
    expect(failed.text).not.toContain('payload');
    expect((await api.request('GET', '/v1/admin/queues/system/failed', { key: tenant.key })).status).toBe(
      403,
    );
    expect((await api.request('GET', '/v1/admin/queues/nope/failed')).status).toBe(404);
    expect((await api.request('GET', '/v1/admin/queues/system/failed?limit=0')).status).toBe(400);
  });
});
