import { TestApi } from '../../../test/support/api-app';

type Problem = { type: string; status: number; errors: { field: string; message: string }[]; detail: string };
type Enrollment = {
  id: string;
  contact_id: string;
  status: string;
  stop_reason: string | null;
  current_step: number;
  next_due_at: string | null;
  finished_at: string | null;
};

/**
 * The sequence routes through the API, without worker or beat: enrolling (by ids, by filter,
 * idempotently), listing, removing, and events; their problems (400/404/409/422) and tenant
 * isolation. The processes' side is test/e2e/sequence.e2e-spec.ts.
 */
describe('sequences API', () => {
  let api: TestApi;
  let tenant: { id: string; key: string };
  let other: { id: string; key: string };
  let account: string;
  let contacts: { id: string; email: string }[];

  beforeAll(async () => {
    api = await TestApi.start();
    tenant = await api.createTenant('Seq');
    other = await api.createTenant('Other');
    account = await api.createWebhookAccount(tenant.key);
    const imported = await api.request<{ created: number }>('POST', '/v1/contacts/import', {
      key: tenant.key,
      body: [
        ...Array.from({ length: 6 }, (_, i) => ({ email: `vip${i}@example.com`, tags: ['vip'] })),
        { email: 'gone@example.com', tags: ['vip'], status: 'unsubscribed' },
        { email: 'plain@example.com' },
      ],
    });
    expect(imported.body.created).toBe(8);
    contacts = (
      await api.request<{ data: { id: string; email: string }[] }>('GET', '/v1/contacts?limit=100', {
        key: tenant.key,
      })
    ).body.data;
  });
  afterAll(async () => {
    await api.close();
  });

  const sequence = async (overrides: Record<string, unknown> = {}) =>
    (
      await api.request<{ id: string }>('POST', '/v1/campaigns', {
        key: tenant.key,
        body: {
          name: 'Sequence',
          kind: 'sequence',
          sender_account_id: account,
          steps: [
            { delay: 3600, body: 'Hello' },
            { delay: 60, body: 'Again' },
          ],
          ...overrides,
        },
      })
    ).body.id;
  const contact = (email: string) => contacts.find((c) => c.email === email)!.id;
  const enroll = (campaign: string, body: unknown, headers: Record<string, string> = {}, key = tenant.key) =>
    api.request<{ enrolled: number; already_enrolled: number; not_found: string[] } & Problem>(
      'POST',
      `/v1/campaigns/${campaign}/enrollments`,
      { key, body, headers },
    );
  const list = (campaign: string, query = '', key = tenant.key) =>
    api.request<{ data: Enrollment[]; next_cursor: string | null } & Problem>(
      'GET',
      `/v1/campaigns/${campaign}/enrollments${query}`,
      { key },
    );

  it('enrolls by ids and by filter; re-enrolling changes nothing; lists in pages', async () => {
    const campaign = await sequence();
    const unknown = '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f';
    const byIds = await enroll(campaign, {
      contact_ids: [
        contact('vip0@example.com'),
        contact('gone@example.com'),
        unknown,
        contact('vip0@example.com'),
      ],
    });
    expect(byIds.status).toBe(200);
    expect(byIds.body).toEqual({
      enrolled: 1,
      already_enrolled: 0,
      not_found: expect.arrayContaining([contact('gone@example.com'), unknown]) as string[],
    });
    const byFilter = await enroll(campaign, { filter: { tags: ['vip'] } });
    expect(byFilter.body).toEqual({ enrolled: 5, already_enrolled: 1, not_found: [] });

    const first = await list(campaign, '?limit=4');
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(4);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await list(campaign, `?limit=4&cursor=${first.body.next_cursor}`);
    expect(second.body.data).toHaveLength(2);
    expect(second.body.next_cursor).toBeNull();
    const all = [...first.body.data, ...second.body.data];
    expect(new Set(all.map((e) => e.contact_id)).size).toBe(6);
    for (const e of all) {
      expect(e).toMatchObject({ status: 'active', stop_reason: null, current_step: 0, finished_at: null });
      expect(new Date(e.next_due_at!).getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    }
    expect((await list(campaign, '?status=completed')).body.data).toEqual([]);
  });

  it('honours Idempotency-Key: a replay answers the first response, another body is a 422', async () => {
    const campaign = await sequence();
    const body = { contact_ids: [contact('vip1@example.com')] };
    const headers = { 'idempotency-key': 'enroll-1' };
    const first = await enroll(campaign, body, headers);
    const replay = await enroll(campaign, body, headers);
    expect(first.body).toEqual({ enrolled: 1, already_enrolled: 0, not_found: [] });
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const reused = await enroll(campaign, { contact_ids: [contact('vip2@example.com')] }, headers);
    expect(reused.status).toBe(422);
    expect(reused.body.type).toBe('https://herald.dev/problems/idempotency-key-reused');
  });

  it.each([
    [{}, 'contact_ids'],
    [{ contact_ids: [], filter: {} }, 'contact_ids'],
    [{ contact_ids: ['0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f'], filter: {} }, 'filter'],
    [{ contact_ids: ['nope'] }, 'contact_ids[0]'],
    [
      { contact_ids: Array.from({ length: 1001 }, () => '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f') },
      'contact_ids',
    ],
    [{ filter: { tags: [''] } }, 'filter.tags[0]'],
    [{ filter: { colour: 'red' } }, 'filter.colour'],
    [{ contact_ids: ['0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f'], extra: 1 }, 'extra'],
  ])('400 naming the field (%#)', async (body, field) => {
    const campaign = await sequence();
    const res = await enroll(campaign, body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.errors.map((e) => e.field)).toContain(field);
  });

  it('409 for a broadcast or an archived sequence; 404 for an unknown or another tenant’s campaign', async () => {
    const broadcast = (
      await api.request<{ id: string }>('POST', '/v1/campaigns', {
        key: tenant.key,
        body: { name: 'B', kind: 'broadcast', sender_account_id: account, steps: [{ body: 'Hi' }] },
      })
    ).body.id;
    const body = { contact_ids: [contact('vip0@example.com')] };
    expect((await enroll(broadcast, body)).status).toBe(409);
    const archived = await sequence();
    expect((await api.request('DELETE', `/v1/campaigns/${archived}`, { key: tenant.key })).status).toBe(204);
    const res = await enroll(archived, body);
    expect(res.status).toBe(409);
    expect(res.body.type).toBe('https://herald.dev/problems/conflict');
    const mine = await sequence();
    expect((await enroll(mine, body, {}, other.key)).status).toBe(404);
    expect((await list(mine, '', other.key)).status).toBe(404);
    expect((await enroll('0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f', body)).status).toBe(404);
    expect((await enroll('not-a-uuid', body)).status).toBe(404);
    expect((await list(mine, '?status=paused')).status).toBe(400);
  });

  it('DELETE takes a contact out: 204, stopped/removed; 404 when not enrolled or not the tenant’s', async () => {
    const campaign = await sequence();
    await enroll(campaign, { contact_ids: [contact('vip3@example.com')] });
    const path = `/v1/campaigns/${campaign}/enrollments/${contact('vip3@example.com')}`;
    expect((await api.request('DELETE', path, { key: other.key })).status).toBe(404);
    expect((await api.request('DELETE', path, { key: tenant.key })).status).toBe(204);
    expect((await api.request('DELETE', path, { key: tenant.key })).status).toBe(204);
    const [row] = (await list(campaign)).body.data;
    expect(row).toMatchObject({ status: 'stopped', stop_reason: 'removed', next_due_at: null });
    const missing = await api.request<Problem>(
      'DELETE',
      `/v1/campaigns/${campaign}/enrollments/${contact('plain@example.com')}`,
      { key: tenant.key },
    );
    expect(missing.status).toBe(404);
    expect(missing.body.errors).toEqual([{ field: 'contact_id', message: expect.any(String) as string }]);
  });

  it('POST /v1/events: an unsubscribe suppresses the address and stops the contact’s sequences', async () => {
    const campaign = await sequence();
    await enroll(campaign, { contact_ids: [contact('vip4@example.com'), contact('vip5@example.com')] });
    // vip4 may be in other sequences of this file too: every active one stops.
    const [active] = await api.query<{ n: string }>(
      `SELECT count(*) AS n FROM enrollments WHERE contact_id = $1 AND status = 'active'`,
      [contact('vip4@example.com')],
    );
    expect(Number(active!.n)).toBeGreaterThanOrEqual(1);
    const res = await api.request<{
      interaction_id: string;
      suppressed: boolean;
      enrollments_stopped: number;
    }>('POST', '/v1/events', {
      key: tenant.key,
      body: { type: 'unsubscribe', email: 'VIP4@example.com', payload: { source: 'link' } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      interaction_id: expect.any(String) as string,
      suppressed: true,
      enrollments_stopped: Number(active!.n),
      delivery_id: null,
      duplicate: false,
    });
    const enrollments = (await list(campaign)).body.data;
    expect(enrollments.find((e) => e.contact_id === contact('vip4@example.com'))).toMatchObject({
      status: 'stopped',
      stop_reason: 'unsubscribe',
    });
    expect(enrollments.find((e) => e.contact_id === contact('vip5@example.com'))?.status).toBe('active');
    const suppressions = await api.request<{ data: { email: string; reason: string }[] }>(
      'GET',
      '/v1/suppressions?email=vip4@example.com',
      { key: tenant.key },
    );
    expect(suppressions.body.data).toEqual([
      expect.objectContaining({ email: 'vip4@example.com', reason: 'unsubscribe' }),
    ]);
    const activity = await api.request<{ data: { id: string; type: string; payload: object }[] }>(
      'GET',
      `/v1/interactions?contact_id=${contact('vip4@example.com')}&type=unsubscribe`,
      { key: tenant.key },
    );
    expect(activity.body.data).toEqual([
      expect.objectContaining({ id: res.body.interaction_id, payload: { source: 'link' } }),
    ]);
  });

  it.each([
    [{ type: 'reply' }, 400, 'contact_id'],
    [
      { type: 'reply', email: 'a@b.co', contact_id: '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f' },
      400,
      'contact_id',
    ],
    [{ type: 'open', email: 'vip0@example.com' }, 400, 'type'],
    [{ type: 'bounce', email: 'vip0@example.com', payload: { kind: 'x' } }, 400, 'payload.kind'],
    [{ type: 'reply', email: 'vip0@example.com', payload: 'hi' }, 400, 'payload'],
    [{ type: 'reply', email: 'nobody@example.com' }, 404, 'email'],
    [{ type: 'reply', contact_id: '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f' }, 404, 'contact_id'],
    [
      { type: 'reply', email: 'vip0@example.com', campaign_id: '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f' },
      404,
      'campaign_id',
    ],
  ])('events: %j → %i naming %s, nothing written', async (body, status, field) => {
    const before = await api.query<{ n: string }>(
      `SELECT count(*) AS n FROM interactions WHERE tenant_id = $1`,
      [tenant.id],
    );
    const res = await api.request<Problem>('POST', '/v1/events', { key: tenant.key, body });
    expect(res.status).toBe(status);
    expect(res.body.errors.map((e) => e.field)).toContain(field);
    expect(
      await api.query(`SELECT count(*) AS n FROM interactions WHERE tenant_id = $1`, [tenant.id]),
    ).toEqual(before);
  });

  it('events from another tenant never reach this tenant’s contacts', async () => {
    const campaign = await sequence();
    await enroll(campaign, { contact_ids: [contact('vip0@example.com')] });
    for (const body of [
      { type: 'bounce', contact_id: contact('vip0@example.com') },
      { type: 'bounce', email: 'vip0@example.com' },
    ]) {
      expect((await api.request('POST', '/v1/events', { key: other.key, body })).status).toBe(404);
    }
    expect((await list(campaign)).body.data.map((e) => e.status)).toEqual(['active']);
    expect(await api.query(`SELECT 1 FROM suppressions WHERE email = 'vip0@example.com'`)).toEqual([]);
  });

  it('documents the routes in OpenAPI', async () => {
    const doc = await api.request<{ paths: Record<string, Record<string, { operationId: string }>> }>(
      'GET',
      '/docs-json',
      { key: null },
    );
    expect(doc.body.paths['/v1/campaigns/{id}/enrollments']?.post?.operationId).toBe('enrollments.create');
    expect(doc.body.paths['/v1/campaigns/{id}/enrollments']?.get?.operationId).toBe('enrollments.list');
    expect(doc.body.paths['/v1/campaigns/{id}/enrollments/{contact_id}']?.delete?.operationId).toBe(
      'enrollments.remove',
    );
    expect(doc.body.paths['/v1/events']?.post?.operationId).toBe('events.create');
  });
});
