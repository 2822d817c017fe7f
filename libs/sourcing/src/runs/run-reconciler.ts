import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { JobProducer, QUEUES, REDIS, type JobEnvelope, type RedisClient } from '@herald/queues';
import { HeraldLogger } from '@herald/telemetry';
import type { Job, Queue } from 'bullmq';
import type { DataSource, EntityManager } from 'typeorm';
import { sourcingRunRecoveries } from '../sourcing-metrics';

/** Hand-backs of a run's failed job in a row, without a step moving the run on, before the run fails. */
export const MAX_HANDBACKS = 3;
/** Failed jobs settled per sweep at most. */
const PAGE = 100;
/** ZSCAN calls per sweep at most (each looks at about this many failed jobs of the queue). */
const SCANS = 10;
const SCAN_COUNT = 1000;
/** BullMQ's failedReason for a job that stalled more than maxStalledCount times (a crasher). */
export const STALLED_REASON = 'job stalled more than allowable limit';

/** Of the failed-job sweep; the lost-job sweep's `readded` (lost-run-jobs) shares the counter. */
export type RecoveryOutcome = 'retried' | 'failed' | 'removed';

interface RunRow {
  status: string;
  job_key: string | null;
  handbacks: number;
}

/**
 * Runs whose `sourcing.run` job BullMQ failed for good (a crasher that stalled past
 * maxStalledCount, or its last attempt) would stay `running` forever: nothing else drives
 * them. The leading beat settles each such job once, under the run's row lock (so two beats
 * never act twice): for a run still queued or running whose current job it is, a crasher or a
 * job with attempts left goes back to the queue (`job.retry()`: the same id, so still one job
 * per run), at most MAX_HANDBACKS times without progress; otherwise the run fails with the
 * job's reason and the spent job is removed. The spent job of a run that is no longer active,
 * or that a resume replaced (`job_key`), is removed and the run left alone. BullMQ keeps a
 * job's stall count across a retry, so a handed-back crasher fails again at its next stall: one
 * hand-back per stall, and a step that moves the run on resets the count (run-executor).
 */
@Injectable()
export class SourcingRunReconciler {
  /** Where the last sweep's scan of the failed set stopped ('0': start over). */
  private cursor = '0';

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly producer: JobProducer,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly logger: HeraldLogger,
  ) {}

  /** One bounded pass; returns how many jobs it settled. */
  async sweep(limit = PAGE): Promise<number> {
    const queue = this.producer.queue(QUEUES.sourcing);
    let settled = 0;
    for (const id of await this.failedRunJobs(queue, limit)) {
      const outcome = await this.settle(queue, id);
      if (!outcome) continue;
      sourcingRunRecoveries().inc({ outcome });
      settled += 1;
    }
    return settled;
  }

  /** Settles one failed job; undefined when there was nothing to do (another beat did it). */
  async settle(queue: Queue, jobId: string): Promise<RecoveryOutcome | undefined> {
    const job = (await queue.getJob(jobId)) as Job<JobEnvelope<'sourcing.run'>> | undefined;
    const payload = job?.data?.payload;
    if (!job || job.name !== 'sourcing.run' || !payload?.run_id) return undefined;
    return this.dataSource.transaction(async (manager) => {
      const [run] = await manager.query<RunRow[]>(
        `SELECT status, job_key, handbacks FROM sourcing_runs WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
        [payload.tenant_id, payload.run_id],
      );
      // Checked under the run's lock: a beat that got here first has retried or removed it.
      if (!(await job.isFailed())) return undefined;
      const active = run && (run.status === 'queued' || run.status === 'running');
      if (!active || (run.job_key !== null && run.job_key !== job.id)) {
        return (await queue.remove(jobId)) > 0 ? 'removed' : undefined;
      }
      const stalled = job.failedReason === STALLED_REASON;
      const attemptsLeft = job.attemptsMade < (job.opts.attempts ?? 1);
      if ((stalled || attemptsLeft) && run.handbacks < MAX_HANDBACKS)
        return this.handBack(manager, job, payload.tenant_id, payload.run_id);
      const error = stalled
        ? `its job kept stalling (its worker died or was starved past its lock) and was handed back ${run.handbacks} times without the run moving on: ${STALLED_REASON}; resume the run to try again`
        : `its job failed after ${job.attemptsMade} attempts: ${job.failedReason}; resume the run to try again`;
      await manager.query(
        `UPDATE sourcing_runs SET status = 'failed', error = $3, reason = NULL, finished_at = now(), updated_at = now()
          WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running')`,
        [payload.tenant_id, payload.run_id, error.slice(0, 1000)],
      );
      // Spent: a later resume adds a job of its own, and nothing re-fails the run with this one.
      await queue.remove(jobId);
      this.logger.warn(
        { tenant_id: payload.tenant_id, run_id: payload.run_id, job_id: jobId, err: { message: error } },
        'sourcing run failed: its job failed for good',
      );
      return 'failed';
    });
  }

  private async handBack(
    manager: EntityManager,
    job: Job,
    tenantId: string,
    runId: string,
  ): Promise<RecoveryOutcome | undefined> {
    // retry() clears it on the job object.
    const failedReason = job.failedReason;
    await manager.query(
      `UPDATE sourcing_runs SET handbacks = handbacks + 1, reason = $3, updated_at = now()
        WHERE tenant_id = $1 AND id = $2`,
      [tenantId, runId, `its job was handed back after: ${failedReason}`.slice(0, 1000)],
    );
    try {
      await job.retry('failed');
    } catch (error) {
      // Retried or removed meanwhile by someone not holding the run's lock (an operator): theirs.
      if (!(await job.isFailed())) return undefined;
      throw error;
    }
    this.logger.warn(
      { tenant_id: tenantId, run_id: runId, job_id: job.id, failed_reason: failedReason },
      'sourcing run job failed for good; handed back to the queue',
    );
    return 'retried';
  }

  /**
   * Ids of failed `sourcing.run` jobs, scanning the failed set from where the last sweep
   * stopped. The set also holds failed qualify jobs (kept for 30 days): matching on the id
   * (`srun-…`) in Redis finds the runs' among them without loading the others.
   */
  private async failedRunJobs(queue: Queue, limit: number): Promise<string[]> {
    const found = new Set<string>();
    for (let scans = 0; scans < SCANS && found.size < limit; scans += 1) {
      const [next, entries] = await this.redis.zscan(
        queue.keys.failed!,
        this.cursor,
        'MATCH',
        'srun-*',
        'COUNT',
        SCAN_COUNT,
      );
      this.cursor = next;
      // Members and scores alternate.
      for (let i = 0; i < entries.length; i += 2) found.add(entries[i]!);
      if (next === '0') break;
    }
    return [...found].slice(0, limit);
  }
}
