import { Injectable } from '@nestjs/common';
import { queryRows } from '@herald/persistence';
import type { EntityManager } from 'typeorm';

/**
 * A candidate still moving, as SQL on `candidates c`: discovered, assessed or enriched, or scored
 * and not held (its hand-off still to come: a batch scores its candidates in one statement and
 * hands each off in a transaction of its own afterwards). A run with any is not done. Written
 * with literals so the planner matches it to the partial index `idx_candidates_open`.
 */
export const OPEN_CANDIDATE = `(c.stage IN ('discovered', 'assessed', 'enriched') OR (c.stage = 'scored' AND NOT c.held))`;

export type TouchOutcome = 'completed' | 'open' | 'not_running';

/** How a candidate's reason starts when the beat closed it because its qualify job kept failing. */
export const NOT_QUALIFIED = 'not qualified:';
/** What a completed run's reason adds after the count of such candidates. */
const NOT_QUALIFIED_SUMMARY = `not qualified (their qualify job kept failing or was lost; each one's reason says why)`;

/**
 * A run's progress, read from its candidates' stages. Whoever moves candidates on (the
 * qualifying steps, the finder) touches the run in the same transaction: the run records that
 * it progressed, and completes once its search is over (exhausted, or its limit of discovered
 * candidates reached) and no candidate is still open (OPEN_CANDIDATE). The completed
 * run's reason says how many candidates the beat closed as not qualified (lost-qualify-jobs).
 */
@Injectable()
export class SourcingRunProgress {
  /** The instance form, for callers that inject it. */
  touch(manager: Pick<EntityManager, 'query'>, tenantId: string, runId: string): Promise<TouchOutcome> {
    return SourcingRunProgress.touch(manager, tenantId, runId);
  }

  static async touch(
    manager: Pick<EntityManager, 'query'>,
    tenantId: string,
    runId: string,
  ): Promise<TouchOutcome> {
    const rows = queryRows<{ status: string }>(
      await manager.query(
        `UPDATE sourcing_runs r
            SET last_progress_at = now(), updated_at = now(),
                status = CASE WHEN done.ready THEN 'completed' ELSE r.status END,
                finished_at = CASE WHEN done.ready THEN now() ELSE r.finished_at END,
                reason = CASE WHEN done.ready THEN COALESCE(r.reason, CASE WHEN r.exhausted THEN 'search exhausted' ELSE 'limit reached' END)
                                                   || (SELECT CASE WHEN count(*) = 0 THEN ''
                                                                   ELSE '; ' || count(*) || CASE WHEN count(*) = 1 THEN ' candidate' ELSE ' candidates' END
                                                                        || ' ' || $3::text END
                                                         FROM candidates c
                                                        WHERE c.tenant_id = r.tenant_id AND c.run_id = r.id AND c.stage = 'rejected'
                                                          AND starts_with(c.reason, $4::text))
                              ELSE r.reason END
           FROM (
             SELECT (r2.exhausted OR r2.discovered >= j."limit")
                    AND NOT EXISTS (SELECT 1 FROM candidates c
                                     WHERE c.tenant_id = r2.tenant_id AND c.run_id = r2.id
                                       AND ${OPEN_CANDIDATE}) AS ready
               FROM sourcing_runs r2
               JOIN sourcing_jobs j ON j.tenant_id = r2.tenant_id AND j.id = r2.job_id
              WHERE r2.tenant_id = $1 AND r2.id = $2
           ) done
          WHERE r.tenant_id = $1 AND r.id = $2 AND r.status = 'running'
          RETURNING r.status`,
        [tenantId, runId, NOT_QUALIFIED_SUMMARY, NOT_QUALIFIED],
      ),
    );
    const status = rows[0]?.status;
    if (status === undefined) return 'not_running';
    return status === 'completed' ? 'completed' : 'open';
  }
}
