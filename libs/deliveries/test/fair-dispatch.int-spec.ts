import { JobProducer } from '@herald/queues';
import { seedBroadcast, testEnvironment } from '@herald/testing';
import { TestApi } from '../../../test/support/api-app';
import { FairDispatcher, FairQueue, FanoutService, type PagePayload } from '../src';

jest.setTimeout(60_000);

/**
 * The fair queue's promises under crashes, in an app with no deliveries worker (nothing drains
 * the queue, so what is queued and dispatched can be counted): a fan-out repeated after a crash
 * queues no page twice, and a dispatcher that died between taking pages and adding their jobs
 * loses none of them, and adds none twice.
 */
describe('fair dispatch under crashes', () => {
  let api: TestApi;
  let fair: FairQueue;
  let dispatcher: FairDispatcher;
  let producer: JobProducer;

  beforeAll(async () => {
    api = await TestApi.start();
    fair = api.app.get(FairQueue);
    dispatcher = api.app.get(FairDispatcher);
    producer = api.app.get(JobProducer);
  });
  afterAll(async () => {
    await api?.close();
  });

  const seed = (contacts: number) =>
    seedBroadcast({
      databaseUrl: api.database.url,
      env: testEnvironment({
        DATABASE_URL: api.database.url,
        REDIS_URL: api.config.redis.url.reveal(),
        QUEUE_PREFIX: api.config.redis.prefix,
      }),
      contacts,
      channel: 'dry-run',
    });
  /** Every delivery id queued for the tenant: in the fair queue's pages or in page jobs. */
  const queuedIds = async (tenantId: string): Promise<string[]> => {
    const jobs = await producer.queue('deliveries').getJobs(['waiting', 'prioritized', 'delayed']);
    const inJobs = jobs
      .map((j) => (j.data as { payload: PagePayload }).payload)
      .filter((p) => p.tenant_id === tenantId)
      .flatMap((p) => p.delivery_ids);
    // Taken out of the fair queue to be read, then given up (their slots freed).
    const rest = await fair.take(1_000_000, 100);
    await fair.ack(rest.map((p) => p.id));
    const inFair = rest
      .filter((p) => p.payload.tenant_id === tenantId)
      .flatMap((p) => p.payload.delivery_ids);
    return [...inJobs, ...inFair];
  };

  it('queues no page twice when a fan-out is repeated from before its cursor was saved', async () => {
    const seeded = await seed(1200);
    const fanout = api.app.get(FanoutService);
    expect(await fanout.fanout(seeded.tenantId, seeded.runId)).toMatchObject({ targeted: 1200 });
    const window = await dispatcher.window();
    expect((await fair.stats()).inFlight).toBe(window);
    // A crash after the push and before the cursor save: the next attempt starts that page again.
    await api.query(
      `UPDATE campaign_runs SET status = 'running', cursor = NULL, fanout_done = false, finished_at = NULL WHERE id = $1`,
      [seeded.runId],
    );
    expect(await fanout.fanout(seeded.tenantId, seeded.runId)).toMatchObject({ targeted: 0, enqueued: 1200 });
    expect(await fair.backlog(seeded.tenantId)).toBe(1200 - window * 100);
    const ids = await queuedIds(seeded.tenantId);
    expect(ids).toHaveLength(1200);
    expect(new Set(ids).size).toBe(1200);
  });

  it('adds the jobs of pages a dead dispatcher had taken, once, and frees the slot of a page done', async () => {
    const t0 = Date.now();
    const seeded = await seed(0);
    const pages: PagePayload[] = Array.from({ length: 3 }, (_, i) => ({
      tenant_id: seeded.tenantId,
      run_id: seeded.runId,
      delivery_ids: [`00000000-0000-4000-8000-00000000000${i}`],
    }));
    await fair.push(seeded.tenantId, 1, pages, 100);
    // A dispatcher takes the pages, then dies before adding their jobs.
    const window = (await fair.stats()).inFlight + 3;
    const taken = await fair.take(window, 100, t0);
    expect(taken).toHaveLength(3);
    const queue = producer.queue('deliveries');
    for (const p of taken) expect(await queue.getJobState(p.id)).toBe('unknown');

    expect(await dispatcher.reap(t0 + 5_000)).toBe(0); // not overdue yet: its dispatcher may be slow
    expect(await dispatcher.reap(t0 + 11_000)).toBe(3);
    for (const p of taken) expect(await queue.getJobState(p.id)).toBe('waiting');
    // Checked again later: the jobs exist now, so nothing is added twice.
    expect(await dispatcher.reap(t0 + 30_000)).toBe(0);
    const jobs = (await queue.getJobs(['waiting'])).filter(
      (j) => (j.data as { payload: PagePayload }).payload.tenant_id === seeded.tenantId,
    );
    expect(jobs.map((j) => j.id).sort()).toEqual(taken.map((p) => p.id).sort());

    const before = (await fair.stats()).inFlight;
    await dispatcher.done([taken[0]!.id]);
    expect((await fair.stats()).inFlight).toBe(before - 1);
  });
});
