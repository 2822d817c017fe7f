import { TestApi } from '../../../test/support/api-app';

type Campaign = {
  id: string;
  name: string;
  kind: string;
  status: string;
  sender_account_id: string;
  steps: { delay: number | null; subject: string | null; body: string; html: boolean }[];
  audience: Record<string, unknown>;
  schedule: Record<string, unknown> | null;
  send_window: Record<string, unknown> | null;
  run_cap: number | null;
  quota_policy: string;
  updated_at: string;
};
type Page = { data: Campaign[]; next_cursor: string | null };
type Problem = { type: string; status: number; errors: { field: string; message: string }[]; detail: string };

describe('campaigns API', () => {
  let api: TestApi;
  let tenant: { id: string; key: string };
  let other: { id: string; key: string };
  let account: string;
  let otherAccount: string;

  const newAccount = async (key: string) => await api.createWebhookAccount(key);

  beforeAll(async () => {
    api = await TestApi.start();
    tenant = await api.createTenant('Campaigns');
    other = await api.createTenant('Other');
    account = await newAccount(tenant.key);
    otherAccount = await newAccount(other.key);
  });
  afterAll(async () => {
    await api.close();
  });

  const broadcast = (overrides: Record<string, unknown> = {}) => ({
    name: 'Launch',
    kind: 'broadcast',
    sender_account_id: account,
    steps: [{ subject: 'Hi {{ first_name | "there" }}', body: 'Hello {{ first_name | "there" }}' }],
    ...overrides,
  });
  const post = (body: unknown, key = tenant.key) =>
    api.request<Campaign & Problem>('POST', '/v1/campaigns', { key, body });
  const campaignCount = async () =>
    Number((await api.query<{ n: string }>('SELECT count(*) AS n FROM campaigns'))[0]!.n);

  it('creates, reads, changes and archives a campaign, in snake_case', async () => {
    const created = await post(
      broadcast({
        audience: { tags: ['vip', 'vip', 'eu'], created_after: '2026-01-01T00:00:00Z', q: 'ada' },
        schedule: { at: '09:30', days: ['fri', 'mon'], time_zone: 'europe/paris' },
        send_window: { start: '22:00', end: '06:00' },
        run_cap: 500,
        quota_policy: 'skip',
      }),
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Launch',
      kind: 'broadcast',
      status: 'active',
      sender_account_id: account,
      steps: [
        {
          delay: null,
          subject: 'Hi {{ first_name | "there" }}',
          body: 'Hello {{ first_name | "there" }}',
          html: false,
        },
      ],
      audience: { tags: ['vip', 'eu'], created_after: '2026-01-01T00:00:00Z', q: 'ada' },
      schedule: { at: '09:30', days: ['mon', 'fri'], time_zone: 'Europe/Paris' },
      send_window: { start: '22:00', end: '06:00' },
      run_cap: 500,
      quota_policy: 'skip',
    });
    const id = created.body.id;
    expect((await api.request<Campaign>('GET', `/v1/campaigns/${id}`, { key: tenant.key })).body).toEqual(
      created.body,
    );
    // What the delivery pipeline reads: steps with delay_seconds, the audience as a filter.
    const [stored] = await api.query<{ steps: unknown; audience: unknown }>(
      'SELECT steps, audience FROM campaigns WHERE id = $1',
      [id],
    );
    expect(stored!.steps).toEqual([
      { subject: 'Hi {{ first_name | "there" }}', body: 'Hello {{ first_name | "there" }}' },
    ]);

    const patched = await api.request<Campaign>('PATCH', `/v1/campaigns/${id}`, {
      key: tenant.key,
      body: { name: 'Launch 2', run_cap: null, schedule: null, audience: null, status: 'paused' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'Launch 2',
      run_cap: null,
      schedule: null,
      audience: {},
      status: 'paused',
      send_window: { start: '22:00', end: '06:00' },
      quota_policy: 'skip',
    });

    expect((await api.request('DELETE', `/v1/campaigns/${id}`, { key: tenant.key })).status).toBe(204);
    expect((await api.request('DELETE', `/v1/campaigns/${id}`, { key: tenant.key })).status).toBe(204);
    const archived = await api.request<Campaign>('GET', `/v1/campaigns/${id}`, { key: tenant.key });
    expect(archived.body.status).toBe('archived');
    const listed = await api.request<Page>('GET', '/v1/campaigns', { key: tenant.key });
    expect(listed.body.data.map((c) => c.id)).not.toContain(id);
    const onlyArchived = await api.request<Page>('GET', '/v1/campaigns?status=archived', { key: tenant.key });
    expect(onlyArchived.body.data.map((c) => c.id)).toEqual([id]);
    const restored = await api.request<Campaign>('PATCH', `/v1/campaigns/${id}`, {
      key: tenant.key,
      body: { status: 'active' },
    });
    expect(restored.body.status).toBe('active');
  });

  it('checks templates and fields, naming each one (steps[0].body)', async () => {
    const before = await campaignCount();
    const res = await post({
      name: '',
      kind: 'newsletter',
      sender_account_id: 'nope',
      steps: [{ body: 'Hi {{ first name }}', subject: 'Line\nbreak', html: 'yes' }],
      audience: { status: ['active'], tags: ['ok'] },
      schedule: { at: '25:00' },
      send_window: { start: '09:00', end: '09:00' },
      run_cap: 0,
      quota_policy: 'later',
      extra: true,
    });
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('https://herald.dev/problems/validation-failed');
    expect(Object.fromEntries(res.body.errors.map((e) => [e.field, e.message]))).toEqual({
      name: 'must not be empty',
      kind: 'must be one of broadcast, birthday, sequence',
      sender_account_id: 'must be a UUID',
      'steps[0].body': 'has a malformed {{ tag }}',
      'steps[0].subject': 'must be one line without control characters',
      'steps[0].html': 'must be a boolean',
      'audience.status': 'is not a known field',
      'schedule.at': 'must be a local time of day, HH:MM from 00:00 to 23:59',
      'send_window.end': 'must differ from start',
      run_cap: 'must be at least 1',
      quota_policy: 'must be defer or skip',
      extra: 'is not a known field',
    });

    const twoSteps = await post(broadcast({ steps: [{ body: 'a' }, { body: 'b', delay: 60 }] }));
    expect(twoSteps.status).toBe(400);
    expect(twoSteps.body.errors).toEqual([
      { field: 'steps', message: 'a broadcast campaign has exactly one step' },
      { field: 'steps[1].delay', message: 'only sequence steps wait' },
    ]);
    const sequence = await post(
      broadcast({ kind: 'sequence', steps: [{ body: 'a' }, { body: 'b', delay: 86_400 }] }),
    );
    expect(sequence.status).toBe(201);
    expect(sequence.body.steps.map((s) => s.delay)).toEqual([null, 86_400]);

    const patchSteps = await api.request<Problem>(
      'PATCH',
      `/v1/campaigns/${(await post(broadcast())).body.id}`,
      {
        key: tenant.key,
        body: { steps: [{ body: 'one' }, { body: 'two' }] },
      },
    );
    expect(patchSteps.status).toBe(400);
    expect(patchSteps.body.errors).toEqual([
      { field: 'steps', message: 'a broadcast campaign has exactly one step' },
    ]);
    const badPatch = await api.request<Problem>('PATCH', `/v1/campaigns/${sequence.body.id}`, {
      key: tenant.key,
      body: { kind: 'broadcast', steps: [{ body: '{{ x' }], status: 'archived' },
    });
    expect(Object.fromEntries(badPatch.body.errors.map((e) => [e.field, e.message]))).toEqual({
      kind: 'is not a known field',
      'steps[0].body': 'has a malformed {{ tag }}',
      status: 'must be active or paused (DELETE archives)',
    });
    expect(await campaignCount()).toBe(before + 2);
  });

  it('refuses another tenant’s sender account (404 naming the field), on create and on change', async () => {
    const before = await campaignCount();
    const res = await post(broadcast({ sender_account_id: otherAccount }));
    expect(res.status).toBe(404);
    expect(res.body.errors).toEqual([
      { field: 'sender_account_id', message: 'names no sender account of this tenant' },
    ]);
    expect(await campaignCount()).toBe(before);

    const mine = await post(broadcast());
    const moved = await api.request<Problem>('PATCH', `/v1/campaigns/${mine.body.id}`, {
      key: tenant.key,
      body: { sender_account_id: otherAccount, name: 'Moved' },
    });
    expect(moved.status).toBe(404);
    expect(moved.body.errors[0]!.field).toBe('sender_account_id');
    const unchanged = await api.request<Campaign>('GET', `/v1/campaigns/${mine.body.id}`, {
      key: tenant.key,
    });
    expect(unchanged.body).toMatchObject({ sender_account_id: account, name: 'Launch' });

    const second = await newAccount(tenant.key);
    const switched = await api.request<Campaign>('PATCH', `/v1/campaigns/${mine.body.id}`, {
      key: tenant.key,
      body: { sender_account_id: second.toUpperCase() },
    });
    expect(switched.body.sender_account_id).toBe(second);
  });

  it('is a 404 to another tenant for every campaign route, and changes nothing', async () => {
    const mine = (await post(broadcast({ name: 'Private' }))).body;
    const snapshot = async () =>
      JSON.stringify(await api.query('SELECT * FROM campaigns WHERE id = $1', [mine.id]));
    const before = await snapshot();
    for (const [method, path, body] of [
      ['GET', `/v1/campaigns/${mine.id}`, undefined],
      ['PATCH', `/v1/campaigns/${mine.id}`, { name: 'Hijacked' }],
      ['DELETE', `/v1/campaigns/${mine.id}`, undefined],
      ['POST', `/v1/campaigns/${mine.id}/runs`, {}],
    ] as const) {
      const res = await api.request(method, path, { key: other.key, body });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
    }
    expect(await snapshot()).toBe(before);
    const theirs = await api.request<Page>('GET', '/v1/campaigns?limit=1000', { key: other.key });
    expect(theirs.body.data).toEqual([]);
  });

  it('lists in keyset pages with kind and status filters', async () => {
    const all: Campaign[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: Page } = await api.request<Page>(
        'GET',
        `/v1/campaigns?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { key: tenant.key },
      );
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      all.push(...res.body.data);
      cursor = res.body.next_cursor;
    } while (cursor);
    const ids = all.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    const [{ n }] = (await api.query<{ n: string }>(
      `SELECT count(*) AS n FROM campaigns WHERE tenant_id = $1 AND status <> 'archived'`,
      [tenant.id],
    )) as [{ n: string }];
    expect(ids).toHaveLength(Number(n));
    const sequences = await api.request<Page>('GET', '/v1/campaigns?kind=sequence', { key: tenant.key });
    expect(sequences.body.data.map((c) => c.kind)).toEqual(['sequence']);
    const bad = await api.request<Problem>('GET', '/v1/campaigns?kind=fax&limit=0', { key: tenant.key });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.field).sort()).toEqual(['kind', 'limit']);
  });
});
