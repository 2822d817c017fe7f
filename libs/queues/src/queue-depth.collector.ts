import { Injectable, type OnModuleInit } from '@nestjs/common';
import { getOrCreateMetric } from '@herald/telemetry';
import { Gauge } from 'prom-client';
import { JobProducer } from './job-producer';
import { QUEUE_NAMES } from './jobs';

const STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'failed',
  'completed',
] as const;

/** `herald_queue_jobs{queue,state}`, read from Redis at scrape time (bounded by a timeout). */
@Injectable()
export class QueueDepthCollector implements OnModuleInit {
  constructor(private readonly producer: JobProducer) {}

  onModuleInit(): void {
    const producer = this.producer;
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
