import { Injectable } from '@nestjs/common';
import { SourcingRunExecutor, SourcingSchedules } from '@herald/sourcing';
import { OnJob, type JobPayloads } from '@herald/queues';
import { DelayedError, type Job } from 'bullmq';

/** Finding leads: a run's search, and a schedule's slot starting a run. */
@Injectable()
export class SourcingHandlers {
  constructor(
    private readonly executor: SourcingRunExecutor,
    private readonly schedules: SourcingSchedules,
  ) {}

  /**
   * Steps the run's search from its cursor. A wait (quota, breaker, a retry's backoff, a slice
   * used up) moves the job to the delayed set without spending an attempt.
   */
  @OnJob('sourcing.run')
  async run(payload: JobPayloads['sourcing.run'], job: Job, token?: string): Promise<string> {
    const outcome = await this.executor.run(payload.tenant_id, payload.run_id);
    if (outcome.kind === 'wait') {
      await job.moveToDelayed(Math.max(outcome.until, Date.now() + 10), token);
      throw new DelayedError(outcome.reason);
    }
    return `${outcome.kind}: ${outcome.status}`;
  }

  @OnJob('sourcing.fire')
  async fire(payload: JobPayloads['sourcing.fire'], job: Job): Promise<{ outcome: string; runId?: string }> {
    const slot = payload.slot
      ? Date.parse(payload.slot)
      : (job.opts.prevMillis ?? job.timestamp + (job.delay ?? 0));
    return this.schedules.fire(payload.tenant_id, payload.job_id, slot);
  }
}
