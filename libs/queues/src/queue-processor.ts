import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { HeraldConfig } from '@herald/config';
import { HeraldMetrics, RequestContext } from '@herald/telemetry';
import { UnrecoverableError, type Job } from 'bullmq';
import type { PinoLogger } from 'nestjs-pino';
import type { JobHandlerRegistry } from './job-handler.registry';
import type { JobEnvelope, QueueName } from './jobs';

/**
 * The base of the one WorkerHost each queue has. It restores the trace context carried in the
 * job so worker log lines join the api's, times and counts every job, dispatches to the
 * @OnJob handler, and on shutdown lets in-flight jobs finish within the grace before handing
 * them back (a forced close leaves them to be picked up again as stalled).
 * Subclasses are registered with `@Processor(QUEUES.x, { autorun: false })`.
 */
export abstract class QueueProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  protected abstract readonly queueName: QueueName;

  constructor(
    protected readonly registry: JobHandlerRegistry,
    protected readonly metrics: HeraldMetrics,
    protected readonly config: HeraldConfig,
    protected readonly logger: PinoLogger,
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

  async process(job: Job<JobEnvelope>): Promise<unknown> {
    const handler = this.registry.get(job.name);
    if (!handler) throw new UnrecoverableError(`no handler for job ${job.name}`);
    const trace = { ...(job.data.trace ?? {}), job_id: job.id, queue: job.queueName };
    return RequestContext.run(trace, async () => {
      const stop = this.metrics.jobDuration.startTimer({ queue: job.queueName, job: job.name });
      this.metrics.jobsActive.inc({ queue: job.queueName });
      this.logger.debug({ job: job.name, attempt: job.attemptsMade + 1 }, 'job started');
      try {
        const result = await handler(job.data.payload, job);
        this.metrics.jobs.inc({ queue: job.queueName, job: job.name, outcome: 'completed' });
        this.logger.info({ job: job.name, attempt: job.attemptsMade + 1 }, 'job completed');
        return result;
      } catch (error) {
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
    const closed = this.worker.close().then(() => true);
    const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), grace)));
    const finished = await Promise.race([closed, expired]);
    clearTimeout(timer);
    if (!finished) {
      this.logger.warn(
        { queue: this.queueName, grace_ms: grace },
        'jobs still running after the grace: handing them back',
      );
      await this.worker.close(true);
    }
  }
}
