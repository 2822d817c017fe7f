/**
 * A separate OS process for the quota concurrency test (quota.concurrency.int-spec.ts): on each
 * `round` message it runs `concurrency` loops that reserve one unit at a time until denied, and
 * answers with how many it was granted. Forked from dist/ (tests build first).
 */
import { ManualClock } from '@herald/time';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
// The service module itself, not the lib's index: the index pulls in Nest and BullMQ, which
// would make each forked process take seconds to start.
import { QuotaService } from '../src/quota.service';

export interface ContenderSetup {
  redisUrl: string;
  prefix: string;
  databaseUrl: string;
}

export interface ContenderRound {
  round: number;
  accountId: string;
  limit: number;
  concurrency: number;
  at: number;
}

async function main(setup: ContenderSetup): Promise<void> {
  const redis = new Redis(setup.redisUrl, {
    enableOfflineQueue: false,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  await redis.connect();
  const dataSource = new DataSource({ type: 'postgres', url: setup.databaseUrl, extra: { max: 4 } });
  await dataSource.initialize();
  const clock = new ManualClock();
  // Same key layout as RedisKeys from @herald/queues: `{prefix}:part:part`.
  const keys = {
    prefix: setup.prefix,
    key: (...parts: string[]) => [`{${setup.prefix}}`, ...parts].join(':'),
  };
  const quota = new QuotaService({ redis, keys, dataSource, clock });

  process.on('message', (message: ContenderRound | { stop: true }) => {
    if ('stop' in message) {
      void Promise.all([redis.quit(), dataSource.destroy()]).then(() => process.exit(0));
      return;
    }
    clock.set(message.at);
    const account = { id: message.accountId, timeZone: 'Europe/Paris', limits: { day: message.limit } };
    const loop = async (worker: number): Promise<number> => {
      let granted = 0;
      for (let i = 0; ; i++) {
        const result = await quota.reserve({
          account,
          reservationId: `${process.pid}.${message.round}.${worker}.${i}`,
        });
        if (!result.admitted) return granted;
        granted++;
      }
    };
    Promise.all(Array.from({ length: message.concurrency }, (_, w) => loop(w))).then(
      (counts) => process.send?.({ round: message.round, admitted: counts.reduce((a, b) => a + b, 0) }),
      (error: unknown) => process.send?.({ round: message.round, error: String(error) }),
    );
  });
  process.send?.({ ready: true });
}

process.once('message', (setup: ContenderSetup) => {
  main(setup).catch((error: unknown) => {
    process.send?.({ error: String(error) });
    process.exit(1);
  });
});
