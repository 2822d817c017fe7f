import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { HeraldConfig } from '@herald/config';
import { HeraldLogger, HeraldMetrics, RequestContext } from '@herald/telemetry';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { JobHandlerRegistry } from './job-handler.registry';
import type { JobEnvelope, QueueName } from './jobs';

/**
 * The base of the one WorkerHost each queue has. It restores the trace context carried in the
 * job so worker log lines join the api's, times and counts every job, dispatches to the
 * @OnJob handler, and on shutdown lets in-flight jobs finish within the grace, then hands the
 * rest back to the queue (moved to wait, so another worker takes them at once).
 * Subclasses are registered with `@Processor(QUEUES.x, { autorun: false })`.
 */
export abstract class QueueProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  protected abstract readonly queueName: QueueName;
  /** Resolved when the shutdown grace has run out: in-flight jobs then go back to the queue. */
  private handBack: (() => void) | undefined;
  private readonly handBackSignal = new Promise<'hand-back'>(
    (resolve) => (this.handBack = () => resolve('hand-back')),
  );

  constructor(
    protected readonly registry: JobHandlerRegistry,
    protected readonly metrics: HeraldMetrics,
    protected readonly config: HeraldConfig,
    protected readonly logger: HeraldLogger,
  ) {
    super();
  }

  protected abstract concurrency(): number;

  onApplicationBootstrap(): void {
    // Consume only once every handler is known to exist exactly once.
    this.registry.validate();
    this.worker.concurrency = this.concurrency();
    this.worker
      .run()
      .catch((error: unknown) => this.logger.error({ err: error, queue: this.queueName }, 'worker stopped'));
  }

  async process(job: Job<JobEnvelope>, token?: string): Promise<unknown> {
    const handler = this.registry.get(job.name);
    if (!handler) throw new UnrecoverableError(`no handler for job ${job.name}`);
    const trace = { ...(job.data.trace ?? {}), job_id: job.id, queue: job.queueName };
    return RequestContext.run(trace, async () => {
      const stop = this.metrics.jobDuration.startTimer({ queue: job.queueName, job: job.name });
      this.metrics.jobsActive.inc({ queue: job.queueName });
      this.logger.debug({ job: job.name, attempt: job.attemptsMade + 1 }, 'job started');
      try {
        const work = handler(job.data.payload, job);
        const result = await Promise.race([work, this.handBackSignal]);
        if (result === 'hand-back') {
          // The handler may still be running; the job's idempotency makes a second run safe.
          work.catch(() => undefined);
          await job.moveToWait(token);
          this.metrics.jobs.inc({ queue: job.queueName, job: job.name, outcome: 'handed_back' });
          this.logger.warn({ job: job.name }, 'job handed back to the queue at shutdown');
          throw new WaitingError();
        }
        this.metrics.jobs.inc({ queue: job.queueName, job: job.name, outcome: 'completed' });
        this.logger.info({ job: job.name, attempt: job.attemptsMade + 1 }, 'job completed');
        return result;
      } catch (error) {
        if (error instanceof WaitingError) throw error;
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
      this.handBack?.();
      await closed;
    }
  }
}
