import { JobProducer } from '@herald/queues';
import { CircuitBreaker } from '@herald/resilience';
import { TEST_ADMIN_KEY } from '@herald/testing';
import { TestApi } from '../../../test/support/api-app';
import { failSystemJobs } from '../../../test/support/failed-jobs';

type Depths = { data: { name: string; counts: Record<string, number> }[] };
type Circuit = {
  key: string;
  channel: string;
  sender_account_id: string;
  state: string;
  open_until: string | null;
};
type Problem = { type: string; status: number; detail: string };

describe('admin API and Bull Board', () => {
  let api: TestApi;
  let a: { id: string; key: string };
  let b: { id: string; key: string };
  let readKey: string;
  let accountA: string;
  let accountB: string;

  const account = async (key: string) =>
    (
      await api.request<{ id: string }>('POST', '/v1/sender-accounts', {
        key,
        body: {
          name: 'Hook',
          channel: 'webhook',
          config: { url: 'https://h.example/in', secret: 'x'.repeat(32) },
        },
      })
    ).body.id;

  beforeAll(async () => {
    api = await TestApi.start();
    a = await api.createTenant('A');
    b = await api.createTenant('B');
    readKey = (
      await api.request<{ key: string }>('POST', '/v1/api-keys', {
        key: a.key,
        body: { name: 'writer', scopes: ['write'] },
      })
    ).body.key;
    accountA = await account(a.key);
    accountB = await account(b.key);
  });
  afterAll(async () => {
    await api.close();
  });

  describe('queues', () => {
    it('shows every queue’s depth by state to a tenant admin and to the platform', async () => {
      for (const key of [a.key, TEST_ADMIN_KEY]) {
        const res = await api.request<Depths>('GET', '/v1/admin/queues', { key });
        expect(res.status).toBe(200);
        expect(res.body.data.map((q) => q.name)).toEqual(['system', 'runs', 'deliveries', 'sourcing']);
        expect(Object.keys(res.body.data[0]!.counts).sort()).toEqual([
          'active',
          'completed',
          'delayed',
          'failed',
          'prioritized',
          'waiting',
          'waiting_children',
        ]);
      }
      expect((await api.request('GET', '/v1/admin/queues', { key: readKey })).status).toBe(403);
    });

    it('retries failed jobs (platform only) and counts them', async () => {
      const queue = api.app.get(JobProducer).queue('system');
      await failSystemJobs(api, 'broken-1', 'broken-2');

      const depths = await api.request<Depths>('GET', '/v1/admin/queues', { key: a.key });
      expect(depths.body.data.find((q) => q.name === 'system')!.counts.failed).toBe(2);

      const denied = await api.request('POST', '/v1/admin/queues/system/retry-failed', { key: a.key });
      expect(denied.status).toBe(403);
      expect(await queue.getJobState('broken-1')).toBe('failed');

      const res = await api.request<{ queue: string; retried: number }>(
        'POST',
        '/v1/admin/queues/system/retry-failed',
        { key: TEST_ADMIN_KEY },
      );
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ queue: 'system', retried: 2 });
      expect(await queue.getJobState('broken-1')).toBe('waiting');
      expect(await queue.getJobState('broken-2')).toBe('waiting');
      expect(await queue.getFailedCount()).toBe(0);

      const unknown = await api.request<Problem>('POST', '/v1/admin/queues/nope/retry-failed', {
        key: TEST_ADMIN_KEY,
      });
      expect(unknown.status).toBe(404);
    });
  });

  describe('circuits', () => {
    const keyA = () => `webhook:${accountA}`;

    it('lets a tenant admin open and close its own account’s circuit, and the fleet sees it', async () => {
      const opened = await api.request<Circuit>('POST', `/v1/admin/circuits/${keyA()}/open`, {
        key: a.key,
        body: { duration_seconds: 120 },
      });
      expect(opened.status).toBe(200);
      expect(opened.body).toMatchObject({
        key: keyA(),
        channel: 'webhook',
        sender_account_id: accountA,
        state: 'open',
      });
      expect(Date.parse(opened.body.open_until!) - Date.now()).toBeGreaterThan(100_000);
      const breaker = api.app.get(CircuitBreaker);
      expect(await breaker.acquire({ channel: 'webhook', account: accountA })).toMatchObject({
        allowed: false,
      });

      const seenByA = await api.request<{ data: Circuit[] }>('GET', '/v1/admin/circuits', { key: a.key });
      expect(seenByA.body.data.map((c) => c.key)).toEqual([keyA()]);

      const closed = await api.request<Circuit>('POST', `/v1/admin/circuits/${keyA()}/close`, { key: a.key });
      expect(closed.body).toMatchObject({ state: 'closed', open_until: null });
      expect(await breaker.acquire({ channel: 'webhook', account: accountA })).toMatchObject({
        allowed: true,
      });
    });

    it('keeps tenants to their own circuits; the platform sees and touches all', async () => {
      const keyB = `webhook:${accountB}`;
      await api.request('POST', `/v1/admin/circuits/${keyB}/open`, { key: b.key });
      await api.request('POST', `/v1/admin/circuits/${keyA()}/open`, { key: a.key });

      const seenByA = await api.request<{ data: Circuit[] }>('GET', '/v1/admin/circuits', { key: a.key });
      expect(seenByA.body.data.map((c) => c.key)).toEqual([keyA()]);
      const seenByPlatform = await api.request<{ data: Circuit[] }>('GET', '/v1/admin/circuits', {
        key: TEST_ADMIN_KEY,
      });
      expect(seenByPlatform.body.data.map((c) => c.key).sort()).toEqual([keyA(), keyB].sort());

      // A's key on B's circuit: 404, and B's circuit stays open.
      for (const action of ['open', 'close']) {
        const res = await api.request('POST', `/v1/admin/circuits/${keyB}/${action}`, { key: a.key });
        expect({ action, status: res.status }).toEqual({ action, status: 404 });
      }
      const breaker = api.app.get(CircuitBreaker);
      expect((await breaker.get({ channel: 'webhook', account: accountB })).state).toBe('open');

      const byPlatform = await api.request<Circuit>('POST', `/v1/admin/circuits/${keyB}/close`, {
        key: TEST_ADMIN_KEY,
      });
      expect(byPlatform.body.state).toBe('closed');

      for (const bad of [
        'nope',
        `smtp:${accountA}`,
        'webhook:0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f',
        'webhook:x',
      ]) {
        const res = await api.request('POST', `/v1/admin/circuits/${encodeURIComponent(bad)}/open`, {
          key: TEST_ADMIN_KEY,
        });
        expect({ bad, status: res.status }).toEqual({ bad, status: 404 });
      }
      expect((await api.request('GET', '/v1/admin/circuits', { key: readKey })).status).toBe(403);
      const badBody = await api.request('POST', `/v1/admin/circuits/${keyA()}/open`, {
        key: a.key,
        body: { duration_seconds: 0 },
      });
      expect(badBody.status).toBe(400);
    });
  });

  describe('Bull Board at /admin/queues', () => {
    it('needs the platform admin key (Bearer, X-API-Key or Basic), compared as a whole', async () => {
      const anonymous = await fetch(`${api.url}/admin/queues`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
      for (const headers of [
        { authorization: `Bearer ${a.key}` },
        { authorization: `Bearer ${TEST_ADMIN_KEY}x` },
        { 'x-api-key': TEST_ADMIN_KEY.slice(0, -1) },
      ]) {
        expect((await fetch(`${api.url}/admin/queues`, { headers })).status).toBe(401);
      }
      const page = await fetch(`${api.url}/admin/queues`, {
        headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
      });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Herald queues');
      const basic = Buffer.from(`admin:${TEST_ADMIN_KEY}`).toString('base64');
      const queues = await fetch(`${api.url}/admin/queues/api/queues`, {
        headers: { authorization: `Basic ${basic}` },
      });
      expect(queues.status).toBe(200);
      const body = (await queues.json()) as { queues: { name: string }[] };
      expect(body.queues.map((q) => q.name).sort()).toEqual(['deliveries', 'runs', 'sourcing', 'system']);
      expect(
        (await fetch(`${api.url}/admin/queues/api/queues`, { headers: { 'x-api-key': TEST_ADMIN_KEY } }))
          .status,
      ).toBe(200);
    });

    it('is not part of the public API document', async () => {
      const doc = await api.request<{ paths: Record<string, unknown> }>('GET', '/docs-json', { key: null });
      expect(Object.keys(doc.body.paths).filter((p) => p.startsWith('/admin'))).toEqual([]);
      expect(Object.keys(doc.body.paths)).toContain('/v1/admin/queues');
    });
  });
});
