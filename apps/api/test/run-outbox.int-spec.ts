import { OutboxRelay } from '@herald/deliveries';
import { JobProducer } from '@herald/queues';
import { eventually, RedisServer } from '@herald/testing';
import { register } from 'prom-client';
import { TestApi } from '../../../test/support/api-app';

type Outbox = { job_name: string; payload: unknown; dispatched_at: Date | null };

/**
 * Promise 3 at the API: a run answered 202 while Redis is down is not lost. The run and its
 * outbox row commit together; the enqueue fails quietly (bounded, no hang) and the row waits
 * undispatched until a relay puts the job on its queue once Redis is back.
 */
describe('starting a run while Redis is down', () => {
  let redis: RedisServer;
  let api: TestApi;
  let key: string;
  let campaignId: string;
  let accountId: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
    api = await TestApi.start({ REDIS_URL: redis.url });
    ({ key } = await api.createTenant('Outage'));
    const account = await api.request<{ id: string }>('POST', '/v1/sender-accounts', {
      key,
      body: {
        name: 'Hook',
        channel: 'webhook',
        config: { url: 'https://h.example/in', secret: 'x'.repeat(32) },
      },
    });
    accountId = account.body.id;
    campaignId = await newCampaign();
  });
  afterAll(async () => {
    await api?.close();
    await redis?.destroy();
  });

  const newCampaign = async () =>
    (
      await api.request<{ id: string }>('POST', '/v1/campaigns', {
        key,
        body: { name: 'B', kind: 'broadcast', sender_account_id: accountId, steps: [{ body: 'Hi' }] },
      })
    ).body.id;
  const outboxOf = (runId: string) =>
    api.query<Outbox>('SELECT job_name, payload, dispatched_at FROM outbox WHERE job_id = $1', [runId]);

  it('answers 202 with the run and its job in the outbox, and relays the job once Redis is back', async () => {
    await redis.stop();
    const started = Date.now();
    const res = await api.request<{ id: string; status: string }>(
      'POST',
      `/v1/campaigns/${campaignId}/runs`,
      {
        key,
        body: {},
        headers: { 'idempotency-key': 'outage-run-1' },
      },
    );
    expect(res.status).toBe(202);
    expect(Date.now() - started).toBeLessThan(5000); // bounded: the enqueue gave up, the request did not hang
    const runId = res.body.id;
    expect(res.body.status).toBe('queued');
    const [run] = await api.query<{ status: string }>('SELECT status FROM campaign_runs WHERE id = $1', [
      runId,
    ]);
    expect(run?.status).toBe('queued');
    expect(await outboxOf(runId)).toEqual([
      {
        job_name: 'runs.fanout',
        payload: { tenant_id: expect.any(String) as string, run_id: runId },
        dispatched_at: null,
      },
    ]);

    // A retry of the request (same key) replays the 202 and tries the relay again: still down.
    const replay = await api.request<{ id: string }>('POST', `/v1/campaigns/${campaignId}/runs`, {
      key,
      body: {},
      headers: { 'idempotency-key': 'outage-run-1' },
    });
    expect(replay.status).toBe(202);
    expect(replay.body.id).toBe(runId);
    expect((await outboxOf(runId))[0]!.dispatched_at).toBeNull();
    expect(await api.query('SELECT 1 FROM campaign_runs WHERE campaign_id = $1', [campaignId])).toHaveLength(
      1,
    );
    // The scrape sees it waiting: pending and the age of the oldest, from one read.
    const gauge = async (name: string) => (await register.getSingleMetric(name)!.get()).values[0]?.value;
    expect(await gauge('herald_outbox_pending')).toBeGreaterThanOrEqual(1);
    expect(await gauge('herald_outbox_lag_seconds')).toBeGreaterThan(0);

    await redis.start();
    const relay = api.app.get(OutboxRelay);
    // The sweep relays it once the queue's connection is back (it retries on its own schedule).
    await eventually(async () => (await relay.dispatchPending()) === 1, {
      timeoutMs: 20_000,
      what: 'outbox relayed after Redis came back',
    });
    expect((await outboxOf(runId))[0]!.dispatched_at).toEqual(expect.any(Date));
    const job = await api.app.get(JobProducer).queue('runs').getJob(runId);
    expect((job?.data as { payload: unknown } | undefined)?.payload).toEqual({
      tenant_id: expect.any(String) as string,
      run_id: runId,
    });
    expect(await relay.dispatchPending()).toBe(0); // nothing left
    await eventually(async () => (await gauge('herald_outbox_pending')) === 0, {
      what: 'the pending gauge back at 0 once a later scrape reads again',
    });
  });

  it('never accepts a run without its job: a failing outbox write rolls the run back', async () => {
    await api.query(`CREATE FUNCTION refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
                       BEGIN RAISE EXCEPTION 'outbox refused'; END $$`);
    await api.query(
      `CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_outbox()`,
    );
    try {
      const fresh = await newCampaign();
      const before = await api.query('SELECT id FROM campaign_runs');
      const res = await api.request<{ type: string }>('POST', `/v1/campaigns/${fresh}/runs`, {
        key,
        body: {},
        headers: { 'idempotency-key': 'outage-run-2' },
      });
      expect(res.status).toBe(500);
      expect(await api.query('SELECT id FROM campaign_runs')).toEqual(before);
      expect(await api.query(`SELECT 1 FROM idempotency_keys WHERE key = 'outage-run-2'`)).toEqual([]);
    } finally {
      await api.query('DROP TRIGGER refuse_outbox ON outbox');
      await api.query('DROP FUNCTION refuse_outbox()');
    }
  });
});
