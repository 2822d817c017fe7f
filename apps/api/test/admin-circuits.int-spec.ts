import { CircuitBreaker, DEFAULT_CIRCUIT_SETTINGS } from '@herald/resilience';
import { SourceQuota } from '@herald/sourcing';
import { TEST_ADMIN_KEY } from '@herald/testing';
import { TestApi } from '../../../test/support/api-app';

type Circuit = {
  key: string;
  account_type: 'sender' | 'source';
  channel?: string;
  sender_account_id?: string;
  kind?: string;
  source_account_id?: string;
  state: string;
  failures: number;
  open_until: string | null;
};
type Tenant = { id: string; key: string; sender: string; source: string };

/**
 * /v1/admin/circuits over both kinds of account the fleet's breaker guards: sender accounts
 * (`<channel>:<id>`) and source accounts (`<kind>:<id>`). Two tenants, each with one of each
 * whose circuit has a record; a tenant sees and forces its own only, the platform all.
 */
describe('admin circuits of sender and source accounts', () => {
  let api: TestApi;
  let a: Tenant;
  let b: Tenant;

  const tenant = async (name: string): Promise<Tenant> => {
    const t = await api.createTenant(name);
    const sender = await api.request<{ id: string }>('POST', '/v1/sender-accounts', {
      key: t.key,
      body: {
        name: 'Hook',
        channel: 'webhook',
        config: { url: 'https://h.example/in', secret: 'x'.repeat(32) },
      },
    });
    const source = await api.request<{ id: string }>('POST', '/v1/source-accounts', {
      key: t.key,
      body: { name: 'A list', kind: 'csv', config: {} },
    });
    expect([sender.status, source.status]).toEqual([201, 201]);
    return { ...t, sender: sender.body.id, source: source.body.id };
  };
  const senderKey = (t: Tenant) => `webhook:${t.sender}`;
  const sourceKey = (t: Tenant) => `csv:${t.source}`;
  const list = async (key: string) => {
    const res = await api.request<{ data: Circuit[] }>('GET', '/v1/admin/circuits', { key });
    expect(res.status).toBe(200);
    return res.body.data;
  };
  const force = (action: 'open' | 'close', circuit: string, key: string) =>
    api.request<Circuit>('POST', `/v1/admin/circuits/${encodeURIComponent(circuit)}/${action}`, { key });

  beforeAll(async () => {
    api = await TestApi.start();
    a = await tenant('A');
    b = await tenant('B');
    // Sender circuits forced open by their own tenant; source circuits tripped as a run trips
    // them (A's past the threshold: open; B's one failure: closed, with a record).
    for (const t of [a, b]) expect((await force('open', senderKey(t), t.key)).status).toBe(200);
    const quota = api.app.get(SourceQuota);
    for (let i = 0; i < DEFAULT_CIRCUIT_SETTINGS.failureThreshold; i++)
      await quota.recordFailure({ kind: 'csv', id: a.source });
    await quota.recordFailure({ kind: 'csv', id: b.source });
  });
  afterAll(() => api?.close());

  it('shows a tenant admin exactly its own circuits, both kinds; the platform all of them', async () => {
    for (const t of [a, b]) {
      const seen = await list(t.key);
      expect(seen.map((c) => c.key).sort()).toEqual([senderKey(t), sourceKey(t)].sort());
      expect(seen.find((c) => c.account_type === 'sender')).toMatchObject({
        key: senderKey(t),
        channel: 'webhook',
        sender_account_id: t.sender,
        state: 'open',
      });
      const source = seen.find((c) => c.account_type === 'source')!;
      expect(Object.keys(source).sort()).toEqual([
        'account_type',
        'failures',
        'key',
        'kind',
        'open_until',
        'period_ms',
        'source_account_id',
        'state',
      ]);
      expect(source).toMatchObject({
        key: sourceKey(t),
        kind: 'csv',
        source_account_id: t.source,
        state: t === a ? 'open' : 'closed',
        failures: t === a ? 0 : 1,
      });
      expect(source.open_until === null).toBe(t !== a);
    }
    const platform = await list(TEST_ADMIN_KEY);
    expect(platform.map((c) => c.key).sort()).toEqual(
      [senderKey(a), sourceKey(a), senderKey(b), sourceKey(b)].sort(),
    );
  });

  it('lets a tenant admin close and open its own source account’s circuit', async () => {
    const breaker = api.app.get(CircuitBreaker);
    const closed = await force('close', sourceKey(a), a.key);
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({
      key: sourceKey(a),
      account_type: 'source',
      kind: 'csv',
      source_account_id: a.source,
      state: 'closed',
      open_until: null,
    });
    expect(await breaker.acquire({ channel: 'csv', account: a.source })).toMatchObject({ allowed: true });

    const opened = await force('open', sourceKey(a), a.key);
    expect(opened.body).toMatchObject({ account_type: 'source', state: 'open' });
    expect(await breaker.acquire({ channel: 'csv', account: a.source })).toMatchObject({ allowed: false });
    // The source account's own circuit route reads the same breaker.
    const own = await api.request<{ state: string }>('GET', `/v1/source-accounts/${a.source}/circuit`, {
      key: a.key,
    });
    expect(own.body.state).toBe('open');
  });

  it('answers 404 for another tenant’s circuits or a key naming the wrong kind, and leaves them be', async () => {
    const breaker = api.app.get(CircuitBreaker);
    const before = await breaker.get({ channel: 'csv', account: b.source });
    for (const circuit of [
      sourceKey(b),
      senderKey(b),
      `http-directory:${a.source}`, // A's source account, not of that kind
      `webhook:${a.source}`, // a source account's id under a channel
      `csv:${a.sender}`, // a sender account's id under a kind
    ])
      for (const action of ['open', 'close'] as const) {
        const res = await force(action, circuit, a.key);
        expect({ circuit, action, status: res.status }).toEqual({ circuit, action, status: 404 });
      }
    expect(await breaker.get({ channel: 'csv', account: b.source })).toEqual(before);
    expect((await breaker.get({ channel: 'webhook', account: b.sender })).state).toBe('open');

    // The platform forces any tenant's source circuit.
    const byPlatform = await force('open', sourceKey(b), TEST_ADMIN_KEY);
    expect(byPlatform.status).toBe(200);
    expect(byPlatform.body).toMatchObject({
      account_type: 'source',
      source_account_id: b.source,
      state: 'open',
    });
  });
});
