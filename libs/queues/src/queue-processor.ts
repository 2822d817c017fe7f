import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { Inject, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { HeraldLogger, HeraldMetrics, inJobContext } from '@herald/telemetry';
import { DelayedError, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { JobHandlerRegistry } from './job-handler.registry';
import type { JobEnvelope, QueueName } from './jobs';

/** Stalls a job survives before BullMQ fails it (a job that keeps killing its worker). */
const MAX_STALLED_COUNT = 3;

/**
 * The base of the one WorkerHost each queue has. It restores the trace context carried in the
 * job so worker log lines join the api's, times and counts every job, dispatches to the
 * @OnJob handler, and on shutdown lets in-flight jobs finish within the grace, then hands the
 * rest back to the queue (moved to wait, so another worker takes them at once).
 * Subclasses only name their queue and are registered with `@Processor(QUEUES.x, { autorun: false })`.
 */
export abstract class QueueProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  protected abstract readonly queueName: QueueName;
  /**
   * One callback per job in flight, called when the shutdown grace has run out: the job then
   * goes back to the queue. (A per-job entry, removed when the job ends: racing every job against
   * one long-lived promise would keep every job's result reachable until shutdown.)
   */
  private readonly handBacks = new Set<() => void>();
  private handingBack = false;

  // Subclasses declare no constructor: Nest resolves these parameters from this one's metadata.
  constructor(
    protected readonly registry: JobHandlerRegistry,
    protected readonly metrics: HeraldMetrics,
    @Inject(HERALD_CONFIG) protected readonly config: HeraldConfig,
    protected readonly logger: HeraldLogger,
  ) {
    super();
  }

  /** QUEUE_CONCURRENCY_<QUEUE>: how many of this queue's jobs one process runs at once. */
  protected concurrency(): number {
    return this.config.queues.concurrency[this.queueName];
  }

  onApplicationBootstrap(): void {
    // Consume only once every handler is known to exist exactly once.
    this.registry.validate();
    this.worker.concurrency = this.concurrency();
    // Lock timing comes from config; the lock manager is built from it, so rebuild it before running.
    const { lockDurationMs, stalledIntervalMs } = this.config.queues;
    Object.assign(this.worker.opts, {
      lockDuration: lockDurationMs,
      lockRenewTime: lockDurationMs / 2,
      stalledInterval: stalledIntervalMs,
      // Short locks hand a dead worker's jobs back in seconds, and make a lapse under a long
      // event-loop stall likelier: a job may stall a few times before BullMQ fails it as a
      // crasher (the ledger makes running it again harmless).
      maxStalledCount: MAX_STALLED_COUNT,
    });
    // createLockManager is protected (meant for subclasses): the lock timing is ours to set.
    (this.worker as unknown as { createLockManager(): void }).createLockManager();
    this.worker
      .run()
      .catch((error: unknown) => this.logger.error({ err: error, queue: this.queueName }, 'worker stopped'));
  }

  async process(job: Job<JobEnvelope>, token?: string): Promise<unknown> {
    const handler = this.registry.get(job.name);
    if (!handler) throw new UnrecoverableError(`no handler for job ${job.name}`);
    const trace = { ...(job.data.trace ?? {}), job_id: job.id, queue: job.queueName };
    // The job's span continues the producer's trace (the `traceparent` carried in the job data).
    return inJobContext(trace, jobSpan(job), async () => {
      const stop = this.metrics.jobDuration.startTimer({ queue: job.queueName, job: job.name });
      this.metrics.jobsActive.inc({ queue: job.queueName });
      this.logger.debug({ job: job.name, attempt: job.attemptsMade + 1 }, 'job started');
      try {
        const work = handler(job.data.payload, job, token);
        let handBack: (() => void) | undefined;
        const handedBack = new Promise<'hand-back'>((resolve) => {
          handBack = () => resolve('hand-back');
          if (this.handingBack) handBack();
          else this.handBacks.add(handBack);
        });
        const result = await Promise.race([work, handedBack]).finally(() => this.handBacks.delete(handBack!));
        if (result === 'hand-back') {
          // The handler may still be running; the job's idempotency makes a second run safe.
          work.catch(() => undefined);
          await job.moveToWait(token);
          this.metrics.jobs.inc({ queue: job.queueName, job: job.name, outcome: 'handed_back' });
          this.logger.warn({ job: job.name }, 'job handed back to the queue at shutdown');
          throw new WaitingError();
        }
        this.metrics.jobs.inc({ queue: job.queueName, job: job.name, outcome: 'completed' });
        this.logger.debug({ job: job.name, attempt: job.attemptsMade + 1 }, 'job completed');
        return result;
      } catch (error) {
        // Moved back to the queue (hand-back) or to later (a wait that is not an attempt).
        if (error instanceof WaitingError || error instanceof DelayedError) throw error;
        const final = error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        this.metrics.jobs.inc({ queue: job.queueName, job: job.name, outcome: final ? 'failed' : 'retried' });
        this.logger.warn({ job: job.name, attempt: job.attemptsMade + 1, final, err: error }, 'job failed');
        throw error;
      } finally {
        stop();
        this.metrics.jobsActive.dec({ queue: job.queueName });
      }
    });
  }

  @OnWorkerEvent('error')
  onWorkerError(error: Error): void {
    this.metrics.redisErrors.inc({ client: 'worker' });
    this.logger.warn({ queue: this.queueName, err: { message: error.message } }, 'worker connection error');
  }

  @OnWorkerEvent('stalled')
  onStalled(jobId: string): void {
    this.metrics.jobs.inc({ queue: this.queueName, job: 'unknown', outcome: 'stalled' });
    this.logger.warn({ queue: this.queueName, stalled_job_id: jobId }, 'job stalled and was handed back');
  }

  async beforeApplicationShutdown(): Promise<void> {
    const grace = this.config.app.shutdownGraceMs;
    let timer: NodeJS.Timeout | undefined;
    // close() stops taking jobs at once and resolves when the active ones are done.
    const closed = this.worker.close().then(() => true);
    const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), grace)));
    const finished = await Promise.race([closed, expired]);
    clearTimeout(timer);
    if (!finished) {
      this.logger.warn(
        { queue: this.queueName, grace_ms: grace },
        'jobs still running after the grace: handing them back',
      );
      this.handingBack = true;
      for (const handBack of this.handBacks) handBack();
      await closed;
    }
  }
}

/** The consumer span of one job: `<queue> process <job>`, with the messaging attributes. */
function jobSpan(job: Job<JobEnvelope>): { name: string; attributes: Record<string, string | number> } {
  return {
    name: `${job.queueName} process ${job.name}`,
    attributes: {
      'messaging.system': 'bullmq',
      'messaging.operation.name': 'process',
      'messaging.destination.name': job.queueName,
      'messaging.message.id': job.id ?? '',
      'herald.job.name': job.name,
      'herald.job.attempt': job.attemptsMade + 1,
    },
  };
}
