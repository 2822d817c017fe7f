import { Injectable, type OnModuleInit } from '@nestjs/common';
import { getOrCreateMetric } from '@herald/telemetry';
import { Gauge } from 'prom-client';
import { Inject } from '@nestjs/common';
import type { RedisClient } from './redis-connection';
import { JobProducer } from './job-producer';
import { nodeServing } from './cluster-connection';
import { isCluster } from './redis-connection';
import { REDIS, RedisKeys } from './redis.provider';
import { JOB_STATES as STATES, QUEUE_NAMES } from './jobs';

/** `herald_queue_jobs{queue,state}` and Redis memory, read from Redis at scrape time (bounded by a timeout). */
@Injectable()
export class QueueDepthCollector implements OnModuleInit {
  constructor(
    private readonly producer: JobProducer,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  /** INFO memory of the Redis holding Herald's keys: on a cluster, the master serving their one slot. */
  private async memoryInfo(): Promise<string> {
    const redis = this.redis;
    if (!isCluster(redis)) return redis.info('memory');
    const node = await nodeServing(redis, this.keys.key('memory'));
    if (!node) throw new Error('no master serves the Herald slot');
    return node.info('memory');
  }

  onModuleInit(): void {
    const producer = this.producer;
    // Redis memory against its limit: a full Redis with noeviction refuses new jobs.
    const memory = async (field: 'used_memory' | 'maxmemory'): Promise<number | undefined> => {
      const info = await withTimeout(this.memoryInfo(), 1000);
      const match = info ? new RegExp(`^${field}:(\\d+)`, 'm').exec(info) : null;
      return match ? Number(match[1]) : undefined;
    };
    getOrCreateMetric(
      'herald_redis_memory_used_bytes',
      () =>
        new Gauge({
          name: 'herald_redis_memory_used_bytes',
          help: 'Memory Redis uses (INFO used_memory), read at scrape time.',
          async collect() {
            const value = await memory('used_memory');
            if (value !== undefined) this.set(value);
          },
        }),
    );
    getOrCreateMetric(
      'herald_redis_memory_max_bytes',
      () =>
        new Gauge({
          name: 'herald_redis_memory_max_bytes',
          help: 'Redis maxmemory (0: no limit), read at scrape time.',
          async collect() {
            const value = await memory('maxmemory');
            if (value !== undefined) this.set(value);
          },
        }),
    );
    getOrCreateMetric(
      'herald_queue_jobs',
      () =>
        new Gauge({
          name: 'herald_queue_jobs',
          help: 'Jobs per queue and state, read from Redis at scrape time.',
          labelNames: ['queue', 'state'],
          async collect() {
            await Promise.all(
              QUEUE_NAMES.map(async (name) => {
                const counts = await withTimeout(producer.queue(name).getJobCounts(...STATES), 1000);
                if (!counts) return;
                for (const state of STATES) this.set({ queue: name, state }, counts[state] ?? 0);
              }),
            );
          },
        }),
    );
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
