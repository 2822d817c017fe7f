import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { OutboxRelay } from '@herald/deliveries';
import { JobProducer, QUEUES, type JobEnvelope } from '@herald/queues';
import { HeraldLogger } from '@herald/telemetry';
import type { Job, Queue } from 'bullmq';
import type { DataSource, EntityManager } from 'typeorm';
import { sourcingCandidates, sourcingRunRecoveries } from '../sourcing-metrics';
import {
  assignQualifyJob,
  dispatchQualifyJobs,
  liveJob,
  requeueQualifyJobs,
  type QualifyScope,
} from './qualify-jobs';
import { NOT_QUALIFIED, OPEN_CANDIDATE, SourcingRunProgress } from './run-progress';

/**
 * Recoveries of a candidate's qualify job (handed back or added again) without the candidate
 * moving on a stage, before the beat closes it as not qualified. Each hand-back gives the job
 * its full attempts again (10, backed off from 2 s: about 17 minutes of trying), so a batch
 * that fails through a long database outage is tried for about an hour before it is closed.
 * Counted per candidate, not per run: a run has many batches, and a run-wide count would let
 * one poisoned batch spend the others' hand-backs, or the others' progress reset its count forever.
 */
export const MAX_QUALIFY_RECOVERIES = 3;
/** (run, qualify job) groups looked at per sweep at most (each costs one job-state lookup in Redis). */
const PAGE = 100;
/** Runs whose candidates still need qualifying: a paused run's qualify jobs go on too. */
const ACTIVE_RUN = ['queued', 'running', 'paused'];

export type QualifyRecoveryOutcome = 'qualify_readded' | 'qualify_retried' | 'qualify_failed';

/**
 * The job of candidates written before they recorded it (`qualify_job` NULL: found before
 * migration 1763948000000): no one can tell whether a job still carries them, so once quiet they
 * are added again like a lost job's. The qualifier is idempotent per candidate, so an old job
 * still waiting for them only finds them done.
 */
const NOT_RECORDED = '';

interface QuietGroup {
  tenant_id: string;
  run_id: string;
  /** The candidates' job, or NOT_RECORDED. */
  qualify_job: string;
}

interface Stuck {
  id: string;
  qualify_recoveries: number;
}

/**
 * Candidates of an active run stay open (discovered, assessed, enriched, or scored and not yet
 * handed off: OPEN_CANDIDATE) until their `sourcing.qualify` job moves them on; the run completes only when none does. When that job is
 * gone from Redis (a restart without persistence, eviction, an operator) or BullMQ failed it for
 * good (attempts spent: a bug, the database down longer than its backoff), nothing else would.
 * The leading beat looks at open candidates that have not moved for a quiet period, grouped by
 * the job that carries them (`candidates.qualify_job`, written by the finder; NOT_RECORDED for
 * candidates older than that column, added again once quiet), and for a job
 * that is neither live in the queue nor still waiting in the outbox, under the run's row lock
 * (two beats act once): a failed job is handed back (`job.retry()`, its attempts reset), a
 * vanished one (or one that completed leaving them open) has its open candidates added again in
 * batches of ≤ 100 through the outbox; a candidate already recovered MAX_QUALIFY_RECOVERIES
 * times without moving on is closed instead (rejected, "not qualified: <why>"), so the run
 * completes and its reason counts them. The qualifier is idempotent per candidate (each step a
 * guarded UPDATE, the hand-off under the candidate's lock), so a batch run twice does nothing twice.
 */
@Injectable()
export class SourcingLostQualifyJobs {
  /** Where the last sweep stopped in (tenant, run, job) order; undefined: from the start. */
  private after: QuietGroup | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly producer: JobProducer,
    private readonly outbox: OutboxRelay,
    private readonly logger: HeraldLogger,
  ) {}

  /** One bounded pass; returns how many qualify jobs it recovered or closed. */
  async sweep(options: { quietMs: number; limit?: number }): Promise<number> {
    const queue = this.producer.queue(QUEUES.sourcing);
    let acted = 0;
    for (const group of await this.quietGroups(options.quietMs, options.limit ?? PAGE)) {
      // Looked at without the lock first: most quiet candidates have their job waiting its turn.
      if (group.qualify_job !== NOT_RECORDED && liveJob(await queue.getJobState(group.qualify_job))) continue;
      const outcomes = await this.recover(queue, group, options.quietMs);
      for (const outcome of outcomes) sourcingRunRecoveries().inc({ outcome });
      if (outcomes.length > 0) acted += 1;
    }
    return acted;
  }

  /**
   * Recovers one job's quiet open candidates under the run's row lock; returns what it did (none:
   * nothing to do, or another beat did it). New jobs are dispatched after commit (the outbox
   * relay covers a failure), so a Redis outage mid-sweep loses nothing.
   */
  async recover(queue: Queue, group: QuietGroup, quietMs: number): Promise<QualifyRecoveryOutcome[]> {
    let added: string[][] = [];
    const outcomes = await this.dataSource.transaction(async (manager) => {
      const [run] = await manager.query<{ status: string }[]>(
        `SELECT status FROM sourcing_runs WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
        [group.tenant_id, group.run_id],
      );
      if (!run || !ACTIVE_RUN.includes(run.status)) return [];
      // The job's state first, its candidates after: a job that completed in between has
      // committed its moves before BullMQ marked it done, so they are seen below.
      const recorded = group.qualify_job !== NOT_RECORDED;
      let state = recorded ? await queue.getJobState(group.qualify_job) : 'unknown';
      if (recorded && (liveJob(state) || (await this.inOutbox(manager, group.qualify_job)))) return [];
      const stuck = await manager.query<Stuck[]>(
        `SELECT c.id, c.qualify_recoveries FROM candidates c
          WHERE c.tenant_id = $1 AND c.run_id = $2 AND coalesce(c.qualify_job, '') = $3 AND ${OPEN_CANDIDATE}
            AND c.updated_at < clock_timestamp() - make_interval(secs => $4::double precision / 1000)
          ORDER BY c.id FOR UPDATE`,
        [group.tenant_id, group.run_id, group.qualify_job, quietMs],
      );
      // Another beat got here first: it moved them to a new job or closed them.
      if (stuck.length === 0) return [];
      const job =
        state === 'failed'
          ? ((await queue.getJob(group.qualify_job)) as Job<JobEnvelope<'sourcing.qualify'>> | undefined)
          : undefined;
      if (state === 'failed' && !job) state = 'unknown';
      // Read before retry(), which clears it on the job object.
      const failedReason = job?.failedReason;
      const cause =
        state === 'failed'
          ? `its qualify job failed for good: ${failedReason ?? 'no reason given'}`
          : state === 'completed'
            ? 'its qualify job completed without moving it on'
            : recorded
              ? 'its qualify job was lost from the queue'
              : 'it was found before candidates recorded their qualify job';
      const spent = stuck.filter((c) => c.qualify_recoveries >= MAX_QUALIFY_RECOVERIES);
      const rest = stuck.filter((c) => c.qualify_recoveries < MAX_QUALIFY_RECOVERIES).map((c) => c.id);
      const done: QualifyRecoveryOutcome[] = [];
      if (rest.length > 0) {
        if (job) {
          // Retried before anything is written: if someone else (an operator) retried or removed
          // it meanwhile, it is theirs, and this transaction changes nothing.
          if (!(await this.retry(job))) return [];
          await assignQualifyJob(manager, scopeOf(group), rest, group.qualify_job, true);
          done.push('qualify_retried');
        } else {
          // A completed job, or data left of a job in no set, holds its id: requeueing frees it.
          added = await requeueQualifyJobs(manager, queue, this.outbox, scopeOf(group), rest, {
            recovery: true,
          });
          done.push('qualify_readded');
        }
        this.logger.warn(
          {
            tenant_id: group.tenant_id,
            run_id: group.run_id,
            job_id: group.qualify_job,
            job_state: state,
            candidates: rest.length,
            failed_reason: failedReason,
          },
          job
            ? 'sourcing qualify job failed for good; handed back to the queue'
            : recorded
              ? 'sourcing qualify job lost; its open candidates added again'
              : 'sourcing candidates without a recorded qualify job added again',
        );
      }
      if (spent.length > 0) {
        await this.close(manager, group, spent, cause);
        done.push('qualify_failed');
      }
      return done;
    });
    await dispatchQualifyJobs(this.outbox, scopeOf(group), added);
    return outcomes;
  }

  /** Hands a failed job back with its attempts reset; false when it is no longer failed (not ours). */
  private async retry(job: Job): Promise<boolean> {
    try {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      return true;
    } catch (error) {
      if (!(await job.isFailed())) return false;
      throw error;
    }
  }

  /** Closes candidates whose job kept failing, with why, and lets the run complete. */
  private async close(manager: EntityManager, group: QuietGroup, spent: readonly Stuck[], cause: string) {
    const reason = `${NOT_QUALIFIED} ${cause} (recovered ${MAX_QUALIFY_RECOVERIES} times by the beat without moving on)`;
    await manager.query(
      `UPDATE candidates SET stage = 'rejected', held = false, reason = $4, updated_at = now()
        WHERE tenant_id = $1 AND run_id = $2 AND id = ANY ($3::uuid[])`,
      [group.tenant_id, group.run_id, spent.map((c) => c.id), reason.slice(0, 1000)],
    );
    sourcingCandidates().inc({ stage: 'rejected', tier: '' }, spent.length);
    await SourcingRunProgress.touch(manager, group.tenant_id, group.run_id);
    this.logger.warn(
      {
        tenant_id: group.tenant_id,
        run_id: group.run_id,
        job_id: group.qualify_job,
        candidates: spent.length,
        err: { message: cause },
      },
      'sourcing candidates not qualified: their qualify job kept failing',
    );
  }

  /** The job is still to be relayed from the outbox (Redis was down when it was written): not lost. */
  private async inOutbox(manager: EntityManager, jobId: string): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      `SELECT 1 FROM outbox WHERE queue = $1 AND job_id = $2 AND job_name = 'sourcing.qualify' AND dispatched_at IS NULL LIMIT 1`,
      [QUEUES.sourcing, jobId],
    );
    return rows.length > 0;
  }

  /**
   * (run, qualify job) groups of active runs' open candidates that have not moved for `quietMs`,
   * a page at a time from where the last sweep stopped (so a backlog of waiting batches cannot
   * hide the others from the sweep).
   */
  private async quietGroups(quietMs: number, limit: number): Promise<QuietGroup[]> {
    const rows = await this.dataSource.query<QuietGroup[]>(
      `SELECT c.tenant_id, c.run_id, coalesce(c.qualify_job, '') AS qualify_job FROM sourcing_runs r
         JOIN candidates c ON c.tenant_id = r.tenant_id AND c.run_id = r.id
        WHERE r.status = ANY ($1::text[]) AND NOT r.dry_run
          AND ${OPEN_CANDIDATE}
          AND c.updated_at < now() - make_interval(secs => $2::double precision / 1000)
          AND ($3::uuid IS NULL OR (c.tenant_id, c.run_id, coalesce(c.qualify_job, '')) > ($3::uuid, $4::uuid, $5::text))
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3 LIMIT $6`,
      [
        ACTIVE_RUN,
        quietMs,
        this.after?.tenant_id ?? null,
        this.after?.run_id ?? null,
        this.after?.qualify_job ?? null,
        limit,
      ],
    );
    const last = rows.at(-1);
    this.after = rows.length < limit || !last ? undefined : last;
    return rows;
  }
}

function scopeOf(group: QuietGroup): QualifyScope {
  return { tenantId: group.tenant_id, runId: group.run_id };
}
