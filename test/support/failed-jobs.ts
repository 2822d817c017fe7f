import { hashTaggedPrefix, JobProducer } from '@herald/queues';
import { testRedisUrl } from '@herald/testing';
import { Worker } from 'bullmq';
import type { TestApi } from './api-app';

/** Jobs in the api's `system` queue that failed once and for all: what a retry-failed would move. */
export async function failSystemJobs(api: TestApi, ...ids: string[]): Promise<void> {
  const queue = api.app.get(JobProducer).queue('system');
  for (const id of ids) await queue.add('broken', { payload: {}, trace: {} }, { jobId: id, attempts: 1 });
  // A worker whose every job fails (one attempt each), stopped once all of them have.
  const worker = new Worker('system', () => Promise.reject(new Error('boom')), {
    connection: { url: testRedisUrl() },
    prefix: hashTaggedPrefix(api.config.redis.prefix),
    autorun: false,
  });
  try {
    const failed = new Promise<void>((resolve) => {
      let n = 0;
      worker.on('failed', () => {
        if (++n === ids.length) resolve();
      });
    });
    void worker.run();
    await failed;
  } finally {
    await worker.close();
  }
}
