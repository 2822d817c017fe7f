import { QuotaService } from '@herald/rate-limit';
import { TestApi } from '../../../test/support/api-app';

type Account = {
  id: string;
  name: string;
  channel: string;
  config: Record<string, unknown>;
  secret_fields: string[];
  quotas: { hourly: number | null; daily: number | null; weekly: number | null };
  time_zone: string;
  status: string;
};
type Problem = { type: string; status: number; errors: { field: string; message: string }[]; detail: string };
type Quota = {
  windows: { window: string; limit: number; used: number; remaining: number; resets_at: string }[];
};

const SECRET = 'whsec_0123456789abcdef-very-secret';
const PASSWORD = 'smtp-password-that-must-never-leak';

describe('sender accounts API', () => {
  let api: TestApi;
  let tenant: { id: string; key: string };
  let other: { id: string; key: string };

  beforeAll(async () => {
    api = await TestApi.start();
    tenant = await api.createTenant('Senders', 'America/New_York');
    other = await api.createTenant('Other');
  });
  afterAll(async () => {
    await api.close();
  });

  const create = (body: unknown, key = tenant.key, headers: Record<string, string> = {}) =>
    api.request<Account & Problem>('POST', '/v1/sender-accounts', { key, body, headers });

  it('creates a webhook account, seals its secret and never returns it', async () => {
    const res = await create({
      name: 'Hook',
      channel: 'webhook',
      config: { url: 'https://hooks.example.com/in', secret: SECRET },
      quotas: { daily: 1000, hourly: null },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'Hook',
      channel: 'webhook',
      config: { url: 'https://hooks.example.com/in' },
      secret_fields: ['secret'],
      quotas: { hourly: null, daily: 1000, weekly: null },
      time_zone: 'America/New_York', // the tenant's, when not given
      status: 'active',
    });
    expect(res.text).not.toContain(SECRET);

    const [row] = await api.query<{ settings: unknown; credentials: string }>(
      'SELECT settings, credentials FROM sender_accounts WHERE id = $1',
      [res.body.id],
    );
    expect(row!.settings).toEqual({ url: 'https://hooks.example.com/in' });
    expect(row!.credentials).toMatch(/^v1:/);
    expect(row!.credentials).not.toContain(SECRET);

    const got = await api.request<Account>('GET', `/v1/sender-accounts/${res.body.id}`, { key: tenant.key });
    expect(got.body).toEqual(res.body);
    expect(got.text).not.toContain(SECRET);
  });

  it('creates an smtp account without ever showing its password, and lists accounts in pages', async () => {
    const smtp = await create({
      name: 'Mailer',
      channel: 'smtp',
      config: {
        host: 'smtp.example.com',
        port: 587,
        secure: false,
        username: 'herald',
        password: PASSWORD,
        from: 'Team <team@example.com>',
      },
      time_zone: 'europe/berlin',
    });
    expect(smtp.status).toBe(201);
    expect(smtp.body.config).toEqual({
      host: 'smtp.example.com',
      port: 587,
      secure: false,
      username: 'herald',
      from: 'Team <team@example.com>',
    });
    expect(smtp.body.secret_fields).toEqual(['password']);
    expect(smtp.body.time_zone).toBe('Europe/Berlin');

    const first = await api.request<{ data: Account[]; next_cursor: string | null }>(
      'GET',
      '/v1/sender-accounts?limit=1',
      { key: tenant.key },
    );
    expect(first.body.data).toHaveLength(1);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const rest = await api.request<{ data: Account[]; next_cursor: string | null }>(
      'GET',
      `/v1/sender-accounts?limit=10&cursor=${first.body.next_cursor}`,
      { key: tenant.key },
    );
    const names = [...first.body.data, ...rest.body.data].map((a) => a.name);
    expect(names).toEqual(['Hook', 'Mailer']);
    expect(rest.body.next_cursor).toBeNull();
    expect(JSON.stringify([first.body, rest.body])).not.toMatch(new RegExp(`${SECRET}|${PASSWORD}`));
  });

  it('checks the config against the channel’s schema, naming config.<field>', async () => {
    const res = await create({
      name: 'Bad hook',
      channel: 'webhook',
      config: { url: 'ftp://user:pw@example.com', secret: 'short', colour: 'red' },
      quotas: { daily: -1, monthly: 5 },
    });
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('https://herald.dev/problems/validation-failed');
    const fields = res.body.errors.map((e) => e.field).sort();
    expect(fields).toEqual([
      'config.colour',
      'config.secret',
      'config.url',
      'quotas.daily',
      'quotas.monthly',
    ]);
    expect(res.text).not.toContain('"short"'); // errors say what is wrong, never echo a secret back

    const wrongChannel = await create({ name: 'Fax', channel: 'fax', config: {} });
    expect(wrongChannel.status).toBe(400);
    expect(wrongChannel.body.errors).toEqual([{ field: 'channel', message: 'must be smtp or webhook' }]);

    const smtpMissing = await create({ name: 'M', channel: 'smtp', config: { host: 'h' } });
    expect(smtpMissing.body.errors.map((e) => e.field).sort()).toEqual([
      'config.from',
      'config.password',
      'config.port',
      'config.secure',
      'config.username',
    ]);
    expect(Number((await api.query<{ n: string }>('SELECT count(*) AS n FROM sender_accounts'))[0]!.n)).toBe(
      2,
    );
  });

  it('needs the admin scope to create, read to look', async () => {
    const reader = await api.request<{ key: string }>('POST', '/v1/api-keys', {
      key: tenant.key,
      body: { name: 'reader', scopes: ['read', 'write'] },
    });
    const denied = await create(
      { name: 'X', channel: 'webhook', config: { url: 'https://x.example', secret: SECRET } },
      reader.body.key,
    );
    expect(denied.status).toBe(403);
    const list = await api.request<{ data: Account[] }>('GET', '/v1/sender-accounts', {
      key: reader.body.key,
    });
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(2);
  });

  it('replays a create with the same Idempotency-Key instead of creating twice', async () => {
    const body = {
      name: 'Once',
      channel: 'webhook',
      config: { url: 'https://once.example', secret: SECRET },
    };
    const headers = { 'idempotency-key': 'sender-once-1' };
    const first = await create(body, tenant.key, headers);
    const again = await create(body, tenant.key, headers);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(
      await api.query('SELECT id FROM sender_accounts WHERE tenant_id = $1 AND name = $2', [
        tenant.id,
        'Once',
      ]),
    ).toHaveLength(1);
    // The stored response is sealed and holds no secret either.
    const stored = await api.query<{ body: Buffer }>(
      `SELECT response_body AS body FROM idempotency_keys WHERE key = 'sender-once-1'`,
    );
    expect(stored[0]!.body.toString('latin1')).not.toContain(SECRET);
  });

  it('shows quota usage per window, counting units taken', async () => {
    const account = await create({
      name: 'Quota',
      channel: 'webhook',
      config: { url: 'https://quota.example', secret: SECRET },
      quotas: { hourly: 50, daily: 100 },
      time_zone: 'UTC',
    });
    const quota = api.app.get(QuotaService);
    const accountRef = {
      id: `${tenant.id}:${account.body.id}`,
      timeZone: 'UTC',
      limits: { hour: 50, day: 100 },
    };
    for (let i = 0; i < 7; i++) {
      const r = await quota.reserve({ account: accountRef, reservationId: `d${i}:1` });
      if (!r.admitted) throw new Error('quota refused');
      if (i < 5) await quota.commit(r.reservation);
      else await quota.refund(r.reservation); // not sent: given back
    }
    const usage = await api.request<Quota>('GET', `/v1/sender-accounts/${account.body.id}/quota`, {
      key: tenant.key,
    });
    expect(usage.status).toBe(200);
    const now = Date.now();
    const hourly = usage.body.windows.find((w) => w.window === 'hourly')!;
    const daily = usage.body.windows.find((w) => w.window === 'daily')!;
    expect(usage.body.windows.map((w) => w.window).sort()).toEqual(['daily', 'hourly']);
    expect(hourly).toMatchObject({ limit: 50, used: 5, remaining: 45 });
    expect(daily).toMatchObject({ limit: 100, used: 5, remaining: 95 });
    const hourEnd = new Date(now);
    hourEnd.setUTCMinutes(60, 0, 0);
    expect(Date.parse(hourly.resets_at)).toBe(hourEnd.getTime());
    const dayEnd = new Date(now);
    dayEnd.setUTCHours(24, 0, 0, 0);
    expect(Date.parse(daily.resets_at)).toBe(dayEnd.getTime());

    const unlimited = await api.request<Quota>(
      'GET',
      `/v1/sender-accounts/${(await create({ name: 'Free', channel: 'webhook', config: { url: 'https://f.example', secret: SECRET } })).body.id}/quota`,
      { key: tenant.key },
    );
    expect(unlimited.body).toEqual({ windows: [] });
  });

  it('is a 404 to another tenant, by id and in lists', async () => {
    const [mine] = await api.query<{ id: string }>(
      'SELECT id FROM sender_accounts WHERE tenant_id = $1 LIMIT 1',
      [tenant.id],
    );
    for (const path of [`/v1/sender-accounts/${mine!.id}`, `/v1/sender-accounts/${mine!.id}/quota`]) {
      const res = await api.request<Problem>('GET', path, { key: other.key });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    const list = await api.request<{ data: Account[] }>('GET', '/v1/sender-accounts', { key: other.key });
    expect(list.body.data).toEqual([]);
    expect((await api.request('GET', '/v1/sender-accounts/not-a-uuid', { key: tenant.key })).status).toBe(
      404,
    );
  });

  it('pauses and resumes an account; a disabled one is a 409, another tenant’s a 404', async () => {
    const created = await create({
      name: 'Pausable',
      channel: 'webhook',
      config: { url: 'https://hooks.example.com/pause', secret: SECRET },
    });
    const post = (path: string, key = tenant.key) => api.request<Account & Problem>('POST', path, { key });
    const paused = await post(`/v1/sender-accounts/${created.body.id}/pause`);
    expect(paused).toMatchObject({ status: 200, body: { id: created.body.id, status: 'paused' } });
    expect((await post(`/v1/sender-accounts/${created.body.id}/pause`)).body.status).toBe('paused');
    expect((await post(`/v1/sender-accounts/${created.body.id}/resume`)).body.status).toBe('active');
    expect((await post(`/v1/sender-accounts/${created.body.id}/pause`, other.key)).status).toBe(404);
    await api.query(`UPDATE sender_accounts SET status = 'disabled' WHERE id = $1`, [created.body.id]);
    for (const action of ['pause', 'resume']) {
      const refused = await post(`/v1/sender-accounts/${created.body.id}/${action}`);
      expect(refused.status).toBe(409);
      expect(refused.body.detail).toBe('This sender account is disabled: it cannot be paused or resumed.');
    }
  });
});
