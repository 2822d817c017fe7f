import { uuidv7 } from '@herald/contacts';
import { TEST_ADMIN_KEY } from '@herald/testing';
import { randomUUID } from 'node:crypto';
import { TestApi } from '../../../test/support/api-app';

type Page<T> = { data: T[]; next_cursor: string | null };
type Delivery = { id: string; run_id: string | null; status: string; last_error: string | null };
type Problem = { status: number; detail: string; errors: { field: string }[] };

/**
 * What the console's pages do beyond reading: a run's deliveries by status (why a contact got
 * nothing), pausing and resuming a sender account, the platform's tenants, and the tenant's zone
 * on the session (times shown in it).
 */
describe('console actions and reads', () => {
  let api: TestApi;
  let tenant: { id: string; key: string };
  let other: { id: string; key: string };
  let account: string;
  let run: string;

  const post = async <T = { id: string }>(key: string, path: string, body: unknown = {}) => {
    const res = await api.request<T>('POST', path, { key, body });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
    return res.body;
  };

  beforeAll(async () => {
    api = await TestApi.start();
    tenant = await api.createTenant('Actions A', 'America/New_York');
    other = await api.createTenant('Actions B');
    account = (
      await post(tenant.key, '/v1/sender-accounts', {
        name: 'Hook',
        channel: 'webhook',
        config: { url: 'https://hooks.example/in', secret: 'x'.repeat(32) },
      })
    ).id;
    const campaign = (
      await post(tenant.key, '/v1/campaigns', {
        name: 'News',
        kind: 'broadcast',
        sender_account_id: account,
        steps: [{ subject: 'Hi', body: 'Hello' }],
      })
    ).id;
    run = (await post(tenant.key, `/v1/campaigns/${campaign}/runs`)).id;
    // Ledger rows as the engine leaves them (the engine is exercised by its own suites).
    const statuses = ['sent', 'failed', 'sent', 'deferred', 'skipped'];
    for (const [i, status] of statuses.entries()) {
      const contact = (await post(tenant.key, '/v1/contacts', { email: `c${i}@example.com` })).id;
      await api.query(
        `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, run_id, contact_id, sender_account_id,
                                 channel, status, last_error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'webhook', $8, $9)`,
        [
          tenant.id,
          uuidv7(), // time-ordered, as the fan-out writes them
          `bc:${run}:${contact}`,
          campaign,
          run,
          contact,
          account,
          status,
          status === 'failed' ? 'provider answered 422' : null,
        ],
      );
    }
  });
  afterAll(async () => {
    await api.close();
  });

  it('pages a run’s deliveries, by status, with why each one is where it is; another tenant’s run is a 404', async () => {
    const all: Delivery[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const res: { status: number; body: Page<Delivery> } = await api.request<Page<Delivery>>(
        'GET',
        `/v1/runs/${run}/deliveries?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { key: tenant.key },
      );
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      all.push(...res.body.data);
      cursor = res.body.next_cursor;
    }
    expect(all.map((d) => d.status)).toEqual(['sent', 'failed', 'sent', 'deferred', 'skipped']);
    expect(new Set(all.map((d) => d.id)).size).toBe(5);

    const failed = await api.request<Page<Delivery>>('GET', `/v1/runs/${run}/deliveries?status=failed`, {
      key: tenant.key,
    });
    expect(failed.body.data).toEqual([
      expect.objectContaining({ run_id: run, status: 'failed', last_error: 'provider answered 422' }),
    ]);

    expect((await api.request('GET', `/v1/runs/${run}/deliveries`, { key: other.key })).status).toBe(404);
    expect(
      (await api.request('GET', `/v1/runs/${randomUUID()}/deliveries`, { key: tenant.key })).status,
    ).toBe(404);
    const bad = await api.request<Problem>('GET', `/v1/runs/${run}/deliveries?status=lost`, {
      key: tenant.key,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.field)).toEqual(['status']);
  });

  it('pauses and resumes a sender account (admin only, idempotent); a disabled one is a 409', async () => {
    const pause = () =>
      api.request<{ status: string } & Problem>('POST', `/v1/sender-accounts/${account}/pause`, {
        key: tenant.key,
      });
    const resume = () =>
      api.request<{ status: string } & Problem>('POST', `/v1/sender-accounts/${account}/resume`, {
        key: tenant.key,
      });
    expect((await pause()).body.status).toBe('paused');
    expect((await pause()).body.status).toBe('paused');
    expect(await api.query('SELECT status FROM sender_accounts WHERE id = $1', [account])).toEqual([
      { status: 'paused' },
    ]);
    expect((await resume()).body.status).toBe('active');
    expect(
      (await api.request('POST', `/v1/sender-accounts/${account}/pause`, { key: other.key })).status,
    ).toBe(404);
    expect(await api.query('SELECT status FROM sender_accounts WHERE id = $1', [account])).toEqual([
      { status: 'active' },
    ]);

    await api.query(`UPDATE sender_accounts SET status = 'disabled' WHERE id = $1`, [account]);
    const refused = await resume();
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain('disabled');
    expect(await api.query('SELECT status FROM sender_accounts WHERE id = $1', [account])).toEqual([
      { status: 'disabled' },
    ]);
    await api.query(`UPDATE sender_accounts SET status = 'active' WHERE id = $1`, [account]);
  });

  it('lists every tenant to the platform, oldest first, page by page', async () => {
    const seen: { id: string; name: string; time_zone: string }[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const res: { status: number; body: Page<{ id: string; name: string; time_zone: string }> } =
        await api.request<Page<{ id: string; name: string; time_zone: string }>>(
          'GET',
          `/v1/tenants?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          { key: TEST_ADMIN_KEY },
        );
      expect(res.status).toBe(200);
      seen.push(...res.body.data);
      cursor = res.body.next_cursor;
    }
    const ids = seen.map((t) => t.id);
    expect(ids.indexOf(tenant.id)).toBeLessThan(ids.indexOf(other.id));
    expect(seen.find((t) => t.id === tenant.id)).toMatchObject({
      name: 'Actions A',
      time_zone: 'America/New_York',
    });
    expect((await api.request('GET', '/v1/tenants', { key: tenant.key })).status).toBe(403);
  });

  it('gives the session the tenant’s zone (times are shown in it), none for the platform view', async () => {
    const signIn = (key: string) =>
      api.request<{ tenant_id: string | null; time_zone: string | null }>('POST', '/v1/sessions', {
        body: { key },
      });
    expect((await signIn(tenant.key)).body).toMatchObject({
      tenant_id: tenant.id,
      time_zone: 'America/New_York',
    });
    expect((await signIn(TEST_ADMIN_KEY)).body).toMatchObject({ tenant_id: null, time_zone: null });
  });
});
