import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { OutboxRelay } from '@herald/deliveries';
import { queryRows } from '@herald/persistence';
import { JobProducer, QUEUES } from '@herald/queues';
import { HeraldLogger } from '@herald/telemetry';
import type { DataSource, EntityManager } from 'typeorm';
import { SourcingStateError } from '../errors';
import { sourcingRequalified } from '../sourcing-metrics';
import { dispatchQualifyJobs, requeueQualifyJobs } from './qualify-jobs';
import { NOT_QUALIFIED } from './run-progress';
import type { CandidateStage, SourcingRunStatus } from './run-record';

/** How long a request waits for Redis while it frees a batch's job id; past it, nothing is written. */
const REDIS_TIMEOUT_MS = 2000;

/** Why a candidate asked for was left as it was. */
export type RequalifySkip =
  'not_found' | 'other_run' | `stage_${Exclude<CandidateStage, 'rejected'>}` | 'not_closed_as_not_qualified';

export interface RequalifyResult {
  /** Each candidate put back, and the stage its stored facts show it reached. */
  requalified: { id: string; stage: CandidateStage }[];
  skipped: { id: string; reason: RequalifySkip }[];
  /** The run's status after (a completed run with candidates put back is running again). */
  status: SourcingRunStatus;
}

interface RunRow {
  status: SourcingRunStatus;
  dry_run: boolean;
  job_id: string;
}

interface CandidateRow {
  id: string;
  stage: CandidateStage;
  not_qualified: boolean;
}

/**
 * Puts candidates the beat closed as not qualified (their qualify job kept failing or was lost:
 * `reason` starting with NOT_QUALIFIED) back to qualifying: only those — a person's or a tier's
 * rejection stands. In one transaction under the run's row lock (the beat's recovery and a
 * second requalify wait; the second then finds them no longer rejected): each goes back to
 * the stage its stored facts show it reached (a score: scored; an enrichment: enriched; an
 * assessment: assessed; else discovered), so nothing already fetched is fetched again (the
 * qualifier skips done steps by stage), with new `sourcing.qualify` jobs through the outbox,
 * dispatched after commit. A completed run is reopened (running; SourcingRunProgress.touch
 * completes it again and recounts its not-qualified suffix). A paused run stays paused: as its
 * other qualify work, its requalified candidates are qualified meanwhile (pause stops the search).
 */
@Injectable()
export class SourcingRequalify {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly producer: JobProducer,
    private readonly outbox: OutboxRelay,
    private readonly logger: HeraldLogger,
  ) {}

  /**
   * `candidateIds` undefined: every candidate of the run closed as not qualified. Undefined when
   * the run is not the tenant's; throws SourcingStateError for a run that cannot qualify.
   */
  async requalify(
    tenantId: string,
    runId: string,
    candidateIds?: readonly string[],
  ): Promise<RequalifyResult | undefined> {
    const queue = this.producer.queue(QUEUES.sourcing);
    const scope = { tenantId, runId };
    const outcome = await this.dataSource.transaction(async (manager) => {
      const [run] = await manager.query<RunRow[]>(
        `SELECT status, dry_run, job_id FROM sourcing_runs WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
        [tenantId, runId],
      );
      if (!run) return undefined;
      refuseUnlessQualifying(run);
      const { chosen, skipped } = await this.choose(manager, tenantId, runId, candidateIds);
      if (chosen.length === 0) return { requalified: [], skipped, status: run.status, batches: [] };
      const reopen = run.status === 'completed';
      if (reopen) await refuseIfAnotherRunActive(manager, tenantId, runId, run.job_id);
      const requalified = queryRows<{ id: string; stage: CandidateStage }>(
        await manager.query(
          `UPDATE candidates c
              SET stage = CASE WHEN c.score IS NOT NULL THEN 'scored'
                               WHEN c.facts ? 'enrichment_status' THEN 'enriched'
                               WHEN c.facts ? 'assessment' THEN 'assessed'
                               ELSE 'discovered' END,
                  held = false, reason = NULL, qualify_recoveries = 0, updated_at = now()
            WHERE c.tenant_id = $1 AND c.run_id = $2 AND c.id = ANY ($3::uuid[])
              AND c.stage = 'rejected' AND starts_with(c.reason, $4)
            RETURNING c.id, c.stage`,
          [tenantId, runId, chosen, NOT_QUALIFIED],
        ),
      ).sort((a, b) => a.id.localeCompare(b.id));
      const batches = await requeueQualifyJobs(
        manager,
        queue,
        this.outbox,
        scope,
        requalified.map((c) => c.id),
        { recovery: false, redisTimeoutMs: REDIS_TIMEOUT_MS },
      );
      // Reopened: touch completes it again once none is open, its reason recomputed (NULL first).
      if (reopen)
        await manager.query(
          `UPDATE sourcing_runs SET status = 'running', finished_at = NULL, reason = NULL,
                  last_progress_at = now(), updated_at = now()
            WHERE tenant_id = $1 AND id = $2`,
          [tenantId, runId],
        );
      const status: SourcingRunStatus = reopen ? 'running' : run.status;
      return { requalified, skipped, status, batches };
    });
    if (!outcome) return undefined;
    const { batches, ...result } = outcome;
    if (result.requalified.length === 0) return result;
    await dispatchQualifyJobs(this.outbox, scope, batches);
    for (const c of result.requalified) sourcingRequalified().inc({ stage: c.stage });
    this.logger.info(
      { tenant_id: tenantId, run_id: runId, candidates: result.requalified.length, status: result.status },
      'sourcing candidates closed as not qualified put back to qualifying',
    );
    return result;
  }

  /** The candidates to put back, locked, and why each other one asked for is left. */
  private async choose(
    manager: EntityManager,
    tenantId: string,
    runId: string,
    ids: readonly string[] | undefined,
  ): Promise<{ chosen: string[]; skipped: RequalifyResult['skipped'] }> {
    const rows = await manager.query<CandidateRow[]>(
      `SELECT id, stage, coalesce(starts_with(reason, $3), false) AS not_qualified FROM candidates
        WHERE tenant_id = $1 AND run_id = $2
          AND CASE WHEN $4::uuid[] IS NULL THEN stage = 'rejected' AND starts_with(reason, $3)
                   ELSE id = ANY ($4::uuid[]) END
        ORDER BY id FOR UPDATE`,
      [tenantId, runId, NOT_QUALIFIED, ids ?? null],
    );
    const chosen = rows.filter((c) => c.stage === 'rejected' && c.not_qualified).map((c) => c.id);
    const skipped: RequalifyResult['skipped'] = rows.flatMap((c) =>
      c.stage === 'rejected'
        ? c.not_qualified
          ? []
          : [{ id: c.id, reason: 'not_closed_as_not_qualified' as const }]
        : [{ id: c.id, reason: `stage_${c.stage}` as RequalifySkip }],
    );
    const found = new Set(rows.map((c) => c.id));
    const missing = (ids ?? []).filter((id) => !found.has(id));
    if (missing.length > 0) {
      const elsewhere = new Set(
        (
          await manager.query<{ id: string }[]>(
            `SELECT id FROM candidates WHERE tenant_id = $1 AND id = ANY ($2::uuid[])`,
            [tenantId, missing],
          )
        ).map((c) => c.id),
      );
      for (const id of missing) skipped.push({ id, reason: elsewhere.has(id) ? 'other_run' : 'not_found' });
    }
    return { chosen, skipped };
  }
}

/** Only a run that still qualifies, or a completed one (reopened), takes candidates back. */
function refuseUnlessQualifying(run: RunRow): void {
  if (run.dry_run)
    throw new SourcingStateError('This is a dry run: it found no candidates, so none can be requalified.');
  if (run.status === 'cancelled')
    throw new SourcingStateError(
      'This run is cancelled: nothing qualifies its candidates any more. Start a new run of its job.',
    );
  if (run.status === 'failed')
    throw new SourcingStateError(
      'This run failed: resume it first (its resume endpoint), then requalify its candidates.',
    );
}

/**
 * A job has one active run at a time (starts and schedules count on it): a completed run is not
 * reopened while another run of its job is active. The job's row lock orders this against a
 * start, which takes it before it looks for an active run.
 */
async function refuseIfAnotherRunActive(
  manager: EntityManager,
  tenantId: string,
  runId: string,
  jobId: string,
): Promise<void> {
  await manager.query(`SELECT 1 FROM sourcing_jobs WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [
    tenantId,
    jobId,
  ]);
  const [active] = await manager.query<{ id: string }[]>(
    `SELECT id FROM sourcing_runs
      WHERE tenant_id = $1 AND job_id = $2 AND id <> $3 AND NOT dry_run AND status IN ('queued', 'running', 'paused')
      LIMIT 1`,
    [tenantId, jobId, runId],
  );
  if (active)
    throw new SourcingStateError(
      `Run ${active.id} of this job is active: a completed run is reopened only when no other run of its job is. Requalify once that run is done.`,
    );
}
