import { getQueueToken } from '@nestjs/bullmq';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import {
  currentTraceparent,
  HeraldLogger,
  HeraldMetrics,
  RequestContext,
  type TraceContext,
} from '@herald/telemetry';
import type { Job, Queue } from 'bullmq';
import { JOBS, QUEUE_NAMES, type JobEnvelope, type JobName, type JobPayloads, type QueueName } from './jobs';

/** The one typed way to start work: `enqueue('system.ping', { ping_id })`. */
@Injectable()
export class JobProducer implements OnModuleInit {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly logger: HeraldLogger,
    private readonly metrics: HeraldMetrics,
  ) {}

  /** Queue providers are asynchronous: they exist once modules are initialising, not at construction. */
  onModuleInit(): void {
    for (const name of QUEUE_NAMES) {
      const queue = this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
      // An unhandled 'error' event would crash the process; a Redis outage must not.
      queue.on('error', (error: Error) => {
        this.metrics.redisErrors.inc({ client: 'queue' });
        this.logger.warn({ queue: name, err: { message: error.message } }, 'queue connection error');
      });
      this.queues.set(name, queue);
    }
  }

  /** Adds the job with its deterministic id: adding the same logical job again is a no-op. */
  async enqueue<N extends JobName>(name: N, payload: JobPayloads[N]): Promise<Job<JobEnvelope<N>>> {
    const definition = JOBS[name];
    const envelope: JobEnvelope<N> = { payload, trace: carriedTrace() };
    const queue = this.queue(definition.queue) as Queue<JobEnvelope<N>>;
    return queue.add(name, envelope, { ...definition.options, jobId: definition.jobId(payload) });
  }

  /**
   * Adds many jobs of one name in one round trip (each with its deterministic id), each delayed
   * by `delayMs(payload)` when given.
   */
  async enqueueBulk<N extends JobName>(
    name: N,
    payloads: readonly JobPayloads[N][],
    delayMs?: (payload: JobPayloads[N]) => number,
  ): Promise<void> {
    if (payloads.length === 0) return;
    const definition = JOBS[name];
    const trace = carriedTrace();
    const queue = this.queue(definition.queue) as Queue<JobEnvelope<N>>;
    await queue.addBulk(
      payloads.map((payload) => ({
        name,
        data: { payload, trace },
        opts: {
          ...definition.options,
          jobId: definition.jobId(payload),
          ...(delayMs ? { delay: Math.max(0, Math.round(delayMs(payload))) } : {}),
        },
      })),
    );
  }

  queue(name: QueueName): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`unknown queue ${name}`);
    return queue;
  }
}

/** What a job carries of its producer: the request id, the tenant and the span that enqueued it. */
function carriedTrace(): TraceContext {
  const { request_id, tenant_id } = RequestContext.current();
  return { request_id, tenant_id, traceparent: currentTraceparent() };
}
