import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { HeraldConfig } from '@herald/config';
import { JobProducer, QUEUES, type JobPayloads } from '@herald/queues';
import { HeraldLogger } from '@herald/telemetry';
import type { JobState, Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { sourcingRunRecoveries } from '../sourcing-metrics';
import { runJobKey } from './run-lifecycle';

/** Active runs looked at per sweep at most (each costs one job-state lookup in Redis). */
const PAGE = 100;

interface ActiveRun {
  tenant_id: string;
  id: string;
  job_key: string;
}

/**
 * How long a run must not have moved before its missing job counts as lost. A live job is
 * always in one of BullMQ's sets (its moves are atomic scripts), so the only moment a healthy
 * run has no job is between the commit of its start or resume and the job's add after commit:
 * two sweep intervals give the outbox relay (same interval) its turn first. Three job locks
 * keep the sweep off a run whose worker was just running it (a step writes `updated_at`; a
 * worker that lost its job keeps stepping until its lock lapses and its slice ends).
 */
export function lostJobQuietMs(config: Pick<HeraldConfig, 'beat' | 'queues'>): number {
  return Math.max(2 * config.beat.sweepIntervalMs, 3 * config.queues.lockDurationMs);
}

/**
 * A queued or running run whose search is not over needs its `sourcing.run` job (`job_key`):
 * nothing else drives it. When Redis lost that job (a restart without persistence, FLUSHDB,
 * eviction, an operator removing it), the leading beat adds it again under the same id, so a
 * copy that reappears is still one job, and under the run's row lock, so two beats add it once.
 * A job that completed while the run's search is not over (its job's limit raised while it was
 * qualifying; a job completes only after its last write, so a crash cannot do this) holds the
 * id, so it is removed and added again the same way. A failed job is the failed-job sweep's
 * (run-reconciler). A run whose search is over needs no job: its qualify jobs finish it, and
 * its completed job may be trimmed away by the queue's retention at any time.
 */
@Injectable()
export class SourcingLostRunJobs {
  /** Where the last sweep stopped in (tenant, run) order; undefined: from the start. */
  private after: { tenantId: string; id: string } | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly producer: JobProducer,
    private readonly logger: HeraldLogger,
  ) {}

  /** One bounded pass; returns how many runs got their job again. */
  async sweep(options: { quietMs: number; limit?: number }): Promise<number> {
    const queue = this.producer.queue(QUEUES.sourcing);
    let readded = 0;
    for (const run of await this.quietRuns(options.quietMs, options.limit ?? PAGE)) {
      // Looked at without the lock first: most quiet runs wait in the delayed set (quota, breaker).
      if (!lost(await queue.getJobState(run.job_key))) continue;
      if (!(await this.readd(queue, run, options.quietMs))) continue;
      sourcingRunRecoveries().inc({ outcome: 'readded' });
      readded += 1;
    }
    return readded;
  }

  /** Adds the run's job again under its row lock; false when there was nothing to do (another beat did it). */
  async readd(queue: Queue, run: ActiveRun, quietMs: number): Promise<boolean> {
    const payload = payloadOf(run);
    if (!payload) {
      this.logger.warn(
        { tenant_id: run.tenant_id, run_id: run.id, job_id: run.job_key },
        'sourcing run job key names no job of the run; not added again',
      );
      return false;
    }
    return this.dataSource.transaction(async (manager) => {
      const [still] = await manager.query<{ id: string }[]>(
        `SELECT r.id FROM sourcing_runs r
           JOIN sourcing_jobs j ON j.tenant_id = r.tenant_id AND j.id = r.job_id
          WHERE r.tenant_id = $1 AND r.id = $2 AND r.job_key = $3 AND r.status IN ('queued', 'running')
            AND NOT r.exhausted AND r.discovered < j."limit"
            AND r.updated_at < clock_timestamp() - make_interval(secs => $4::double precision / 1000)
            FOR UPDATE OF r`,
        [run.tenant_id, run.id, run.job_key, quietMs],
      );
      if (!still) return false;
      // Checked again under the run's lock: a beat that got here first has added it.
      const state = await queue.getJobState(run.job_key);
      if (!lost(state)) return false;
      // A completed job, or data left of a job in no set, holds the id: an add would do nothing.
      if ((await queue.remove(run.job_key)) === 0) return false;
      await this.producer.enqueue('sourcing.run', payload);
      const reason =
        state === 'completed'
          ? 'its job had completed before its search was over; added again'
          : 'its job was lost from the queue; added again';
      await manager.query(
        `UPDATE sourcing_runs SET reason = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
        [run.tenant_id, run.id, reason],
      );
      this.logger.warn(
        { tenant_id: run.tenant_id, run_id: run.id, job_id: run.job_key, job_state: state },
        'sourcing run job lost; added again',
      );
      return true;
    });
  }

  /**
   * Queued or running runs whose search is not over and that have not moved for `quietMs`, a
   * page at a time from where the last sweep stopped (so a fleet of runs waiting on their
   * quota, each with its job in the delayed set, cannot hide the others from the sweep).
   */
  private async quietRuns(quietMs: number, limit: number): Promise<ActiveRun[]> {
    const rows = await this.dataSource.query<ActiveRun[]>(
      `SELECT r.tenant_id, r.id, r.job_key FROM sourcing_runs r
         JOIN sourcing_jobs j ON j.tenant_id = r.tenant_id AND j.id = r.job_id
        WHERE r.status IN ('queued', 'running') AND NOT r.dry_run AND r.job_key IS NOT NULL
          AND NOT r.exhausted AND r.discovered < j."limit"
          AND r.updated_at < now() - make_interval(secs => $1::double precision / 1000)
          AND ($2::uuid IS NULL OR (r.tenant_id, r.id) > ($2::uuid, $3::uuid))
        ORDER BY r.tenant_id, r.id LIMIT $4`,
      [quietMs, this.after?.tenantId ?? null, this.after?.id ?? null, limit],
    );
    const last = rows.at(-1);
    this.after = rows.length < limit || !last ? undefined : { tenantId: last.tenant_id, id: last.id };
    return rows;
  }
}

/** No job will ever run the run again: in no set of the queue, or completed. */
function lost(state: JobState | 'unknown'): boolean {
  return state === 'unknown' || state === 'completed';
}

/** The payload whose job id is the run's job key (`srun-<run>` or `srun-<run>-resume-<ms>`). */
function payloadOf(run: ActiveRun): JobPayloads['sourcing.run'] | undefined {
  const resume = /-resume-(\d+)$/.exec(run.job_key)?.[1];
  const payload = {
    tenant_id: run.tenant_id,
    run_id: run.id,
    ...(resume === undefined ? {} : { resume: Number(resume) }),
  };
  return runJobKey(payload) === run.job_key ? payload : undefined;
}
