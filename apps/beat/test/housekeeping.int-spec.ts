import { JobProducer, QUEUES } from '@herald/queues';
import { DataSource } from 'typeorm';
import { Housekeeping } from '../src/housekeeping';
import { TestApi } from '../../../test/support/api-app';

/** The beat's housekeeping on real Postgres and Redis: what has expired goes, nothing else. */
describe('beat housekeeping', () => {
  let api: TestApi;
  let housekeeping: Housekeeping;

  beforeAll(async () => {
    api = await TestApi.start();
    housekeeping = new Housekeeping(api.app.get(DataSource), api.app.get(JobProducer));
  });
  afterAll(async () => {
    await api?.close();
  });

  it('deletes expired idempotency keys and keeps live ones', async () => {
    await api.query(
      `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, response_status, response_body, expires_at)
       VALUES (NULL, 'old', 'f', 200, '\\x7b7d', now() - interval '1 second'),
              (NULL, 'live', 'f', 200, '\\x7b7d', now() + interval '1 day')`,
    );
    expect(await housekeeping.expiredIdempotencyKeys()).toBe(1);
    expect(await api.query('SELECT key FROM idempotency_keys')).toEqual([{ key: 'live' }]);
    expect(await housekeeping.expiredIdempotencyKeys()).toBe(0);
  });

  it('purges outbox rows dispatched more than a week ago, never undispatched ones', async () => {
    await api.query(
      `INSERT INTO outbox (queue, job_name, job_id, payload, created_at, dispatched_at) VALUES
         ('runs', 'runs.fanout', 'a', '{}', now() - interval '9 days', now() - interval '8 days'),
         ('runs', 'runs.fanout', 'b', '{}', now() - interval '9 days', now() - interval '1 day'),
         ('runs', 'runs.fanout', 'c', '{}', now() - interval '9 days', NULL)`,
    );
    expect(await housekeeping.dispatchedOutbox()).toBe(1);
    expect(
      (await api.query<{ job_id: string }>('SELECT job_id FROM outbox ORDER BY job_id')).map((r) => r.job_id),
    ).toEqual(['b', 'c']);
  });

  it('cleans finished jobs only past their retention', async () => {
    const producer = api.app.get(JobProducer);
    await producer.enqueue('system.ping', { ping_id: 'kept', hold_ms: 0 });
    expect(await housekeeping.finishedJobs()).toBe(0);
    expect(await producer.queue(QUEUES.system).getJob('ping-kept')).toBeDefined();
  });
});
