import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { uuidv7 } from '@herald/contacts';
import { OutboxRelay } from '@herald/deliveries';
import { JOBS, type JobPayloads } from '@herald/queues';
import { queryRows } from '@herald/persistence';
import type { DataSource, EntityManager } from 'typeorm';
import { SourceAccountsRepository } from '../accounts/source-accounts.repository';
import { SourcingStateError } from '../errors';
import { SourcingJobsRepository } from '../jobs/sourcing-jobs.repository';
import { RunPlanner } from './run-planner';
import { NOT_QUALIFIED } from './run-progress';
import {
  SELECT_RUN,
  toRunRecord,
  type CandidateStage,
  type RunRow,
  type SourcingRunRecord,
} from './run-record';

type Db = Pick<EntityManager, 'query'>;

const ACTIVE = ['queued', 'running', 'paused'];

/** Per stage, how many the beat closed as not qualified (`$3`: NOT_QUALIFIED; only rejected ones can be). */
const NOT_QUALIFIED_COUNT = `count(*) FILTER (WHERE starts_with(reason, $3)) AS not_qualified`;

interface StageCount {
  stage: CandidateStage;
  n: string;
  not_qualified: string;
}

function notQualifiedOf(stages: readonly StageCount[]): number {
  return stages.filter((s) => s.stage === 'rejected').reduce((sum, s) => sum + Number(s.not_qualified), 0);
}

/**
 * A sourcing run's life: started by hand or by its job's schedule (the run row and its
 * `sourcing.run` job written in one transaction, through the outbox), read with its progress
 * by stage, rate and ETA, paused, resumed (from its cursor, also after a failure) and cancelled.
 * A dry run fetches nothing: it completes at once with its forecast.
 */
@Injectable()
export class SourcingRunLifecycle {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly jobs: SourcingJobsRepository,
    private readonly accounts: SourceAccountsRepository,
    private readonly planner: RunPlanner,
    private readonly outbox: OutboxRelay,
  ) {}

  /**
   * Starts a run in the caller's transaction; undefined when the job is not the tenant's.
   * `scheduledFor`: a schedule's local day (a second start for it is `duplicate`).
   */
  async start(
    manager: EntityManager,
    tenantId: string,
    jobId: string,
    options: { dryRun: boolean; trigger?: 'manual' | 'schedule'; scheduledFor?: string },
  ): Promise<SourcingRunRecord | 'duplicate' | undefined> {
    const job = await this.jobs.find(tenantId, jobId, manager, true);
    if (!job) return undefined;
    if (job.status === 'archived')
      throw new SourcingStateError('This sourcing job is archived: it starts no run.');
    if (!options.dryRun) {
      const [active] = await manager.query<{ id: string }[]>(
        `SELECT id FROM sourcing_runs WHERE tenant_id = $1 AND job_id = $2 AND NOT dry_run AND status = ANY ($3::text[]) LIMIT 1`,
        [tenantId, jobId, ACTIVE],
      );
      if (active) {
        if (options.trigger === 'schedule') return 'duplicate';
        throw new SourcingStateError(
          `Run ${active.id} of this job is still active: one run of a job at a time.`,
        );
      }
    }
    const [model] = await manager.query<{ current_version: number }[]>(
      `SELECT current_version FROM scoring_models WHERE tenant_id = $1 AND id = $2`,
      [tenantId, job.scoringModelId],
    );
    if (!model) throw new SourcingStateError('The job’s scoring model no longer exists: set another one.');
    const account = await this.accounts.unsealed(tenantId, job.sourceAccountId);
    if (!account) throw new SourcingStateError('The job’s source account no longer exists.');
    const id = uuidv7();
    const forecast = options.dryRun ? await this.planner.forecast(account, job.criteria, job.limit) : null;
    const inserted = queryRows<{ id: string }>(
      await manager.query(
        `INSERT INTO sourcing_runs (tenant_id, id, job_id, trigger, dry_run, status, scheduled_for, scoring_model_id,
                                    scoring_model_version, forecast, finished_at, reason, job_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (tenant_id, job_id, scheduled_for) WHERE scheduled_for IS NOT NULL DO NOTHING
         RETURNING id`,
        [
          tenantId,
          id,
          jobId,
          options.trigger ?? 'manual',
          options.dryRun,
          options.dryRun ? 'completed' : 'queued',
          options.scheduledFor ?? null,
          job.scoringModelId,
          model.current_version,
          forecast ? JSON.stringify(forecast) : null,
          options.dryRun ? new Date().toISOString() : null,
          options.dryRun ? 'dry run' : null,
          options.dryRun ? null : runJobKey({ tenant_id: tenantId, run_id: id }),
        ],
      ),
    );
    if (inserted.length === 0) return 'duplicate';
    if (!options.dryRun)
      await this.outbox.write(manager, tenantId, 'sourcing.run', { tenant_id: tenantId, run_id: id });
    return (await this.find(tenantId, id, manager))!;
  }

  /** After commit: puts a started or resumed run's job on the queue (the outbox sweep covers a failure). */
  async dispatch(tenantId: string, runId: string, resume?: number): Promise<void> {
    await this.outbox.dispatchJob('sourcing.run', {
      tenant_id: tenantId,
      run_id: runId,
      ...(resume === undefined ? {} : { resume }),
    });
  }

  async find(tenantId: string, id: string, db: Db = this.dataSource): Promise<SourcingRunRecord | undefined> {
    const [row] = await db.query<RunRow[]>(`${SELECT_RUN} WHERE r.tenant_id = $1 AND r.id = $2`, [
      tenantId,
      id,
    ]);
    if (!row) return undefined;
    const stages = await db.query<StageCount[]>(
      `SELECT stage, count(*) AS n, ${NOT_QUALIFIED_COUNT} FROM candidates WHERE tenant_id = $1 AND run_id = $2 GROUP BY stage`,
      [tenantId, id, NOT_QUALIFIED],
    );
    const [rate] = await db.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM candidates
        WHERE tenant_id = $1 AND run_id = $2 AND created_at > now() - interval '60 seconds'`,
      [tenantId, id],
    );
    const record = toRunRecord(
      row,
      Object.fromEntries(stages.map((s) => [s.stage, Number(s.n)])),
      Number(rate?.n ?? 0) / 60,
      notQualifiedOf(stages),
    );
    if (record.status === 'running') {
      const job = await this.jobs.find(tenantId, row.job_id, db);
      const account = job && (await this.accounts.unsealed(tenantId, job.sourceAccountId));
      if (job && account) await this.planner.estimate(record, account, job.criteria);
    }
    return record;
  }

  /** Newest first; by job and/or status. */
  async list(
    tenantId: string,
    filter: { jobId?: string | undefined; status?: string | undefined },
    after: { createdAt: Date; id: string } | null,
    limit: number,
  ): Promise<SourcingRunRecord[]> {
    const rows = await this.dataSource.query<RunRow[]>(
      `${SELECT_RUN} WHERE r.tenant_id = $1
          AND ($2::uuid IS NULL OR r.job_id = $2) AND ($3::text IS NULL OR r.status = $3)
          AND ($4::timestamptz IS NULL OR (r.created_at, r.id) < ($4::timestamptz, $5::uuid))
        ORDER BY r.created_at DESC, r.id DESC LIMIT $6`,
      [
        tenantId,
        filter.jobId ?? null,
        filter.status ?? null,
        after?.createdAt.toISOString() ?? null,
        after?.id ?? null,
        limit,
      ],
    );
    const ids = rows.map((r) => r.id);
    const stages = await this.dataSource.query<(StageCount & { run_id: string })[]>(
      `SELECT run_id, stage, count(*) AS n, ${NOT_QUALIFIED_COUNT} FROM candidates
        WHERE tenant_id = $1 AND run_id = ANY ($2::uuid[]) GROUP BY run_id, stage`,
      [tenantId, ids, NOT_QUALIFIED],
    );
    return rows.map((row) => {
      const own = stages.filter((s) => s.run_id === row.id);
      return toRunRecord(
        row,
        Object.fromEntries(own.map((s) => [s.stage, Number(s.n)])),
        0,
        notQualifiedOf(own),
      );
    });
  }

  /** A queued or running run stops after its current step; pausing a paused run changes nothing. */
  async pause(tenantId: string, id: string): Promise<SourcingRunRecord | undefined> {
    return this.transition(tenantId, id, (status) => {
      if (status === 'paused') return null;
      if (status !== 'queued' && status !== 'running')
        throw new SourcingStateError(`This run is ${status}: only a queued or running run can be paused.`);
      return `status = 'paused', reason = 'paused by request'`;
    });
  }

  /** A paused or failed run goes on from its cursor: nothing it found is fetched or charged again. */
  async resume(tenantId: string, id: string): Promise<SourcingRunRecord | undefined> {
    const resume = Date.now();
    let resumed = false;
    const record = await this.transition(tenantId, id, (status, manager) => {
      if (status === 'running' || status === 'queued') return null;
      if (status !== 'paused' && status !== 'failed')
        throw new SourcingStateError(`This run is ${status}: only a paused or failed run can be resumed.`);
      resumed = true;
      const payload = { tenant_id: tenantId, run_id: id, resume };
      // The new job becomes the run's: a job BullMQ failed before the resume can no longer touch it.
      return this.outbox
        .write(manager, tenantId, 'sourcing.run', payload)
        .then(() =>
          manager.query(
            `UPDATE sourcing_runs SET job_key = $3, handbacks = 0 WHERE tenant_id = $1 AND id = $2`,
            [tenantId, id, runJobKey(payload)],
          ),
        )
        .then(() => `status = 'running', reason = NULL, error = NULL, failures = 0, finished_at = NULL`);
    });
    if (record && resumed) await this.dispatch(tenantId, id, resume);
    return record;
  }

  /** Stops the search; candidates found stay. Cancelling a cancelled run is fine; a completed one is a 409. */
  async cancel(tenantId: string, id: string): Promise<SourcingRunRecord | undefined> {
    return this.transition(tenantId, id, (status) => {
      if (status === 'cancelled') return null;
      if (status === 'completed')
        throw new SourcingStateError('This run is completed: there is nothing to cancel.');
      return `status = 'cancelled', finished_at = now(), reason = 'cancelled by request'`;
    });
  }

  private async transition(
    tenantId: string,
    id: string,
    change: (status: string, manager: EntityManager) => string | null | Promise<string | null>,
  ): Promise<SourcingRunRecord | undefined> {
    const found = await this.dataSource.transaction(async (manager) => {
      const [run] = await manager.query<{ status: string; dry_run: boolean }[]>(
        `SELECT status, dry_run FROM sourcing_runs WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
        [tenantId, id],
      );
      if (!run) return false;
      if (run.dry_run)
        throw new SourcingStateError('This is a dry run: it fetched nothing and is already complete.');
      const sets = await change(run.status, manager);
      if (sets)
        await manager.query(
          `UPDATE sourcing_runs SET ${sets}, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
          [tenantId, id],
        );
      return true;
    });
    return found ? this.find(tenantId, id) : undefined;
  }
}

/** The BullMQ job id of a run's `sourcing.run` job (`srun-<run>`, or `srun-<run>-resume-<ms>`). */
export function runJobKey(payload: JobPayloads['sourcing.run']): string {
  return JOBS['sourcing.run'].jobId(payload);
}
