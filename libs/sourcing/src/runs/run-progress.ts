import { Injectable } from '@nestjs/common';
import { queryRows } from '@herald/persistence';
import type { EntityManager } from 'typeorm';

/** Stages a candidate is still moving through: a run with any of these is not done. */
export const OPEN_STAGES = ['discovered', 'assessed', 'enriched'] as const;

export type TouchOutcome = 'completed' | 'open' | 'not_running';

/** How a candidate's reason starts when the beat closed it because its qualify job kept failing. */
export const NOT_QUALIFIED = 'not qualified:';
/** What a completed run's reason adds after the count of such candidates. */
const NOT_QUALIFIED_SUMMARY = `not qualified (their qualify job kept failing or was lost; each one's reason says why)`;

/**
 * A run's progress, read from its candidates' stages. Whoever moves candidates on (the
 * qualifying steps, the finder) touches the run in the same transaction: the run records that
 * it progressed, and completes once its search is over (exhausted, or its limit of discovered
 * candidates reached) and no candidate is still discovered, assessed or enriched. The completed
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
                                                                        || ' ' || $4::text END
                                                         FROM candidates c
                                                        WHERE c.tenant_id = r.tenant_id AND c.run_id = r.id AND c.stage = 'rejected'
                                                          AND starts_with(c.reason, $5::text))
                              ELSE r.reason END
           FROM (
             SELECT (r2.exhausted OR r2.discovered >= j."limit")
                    AND NOT EXISTS (SELECT 1 FROM candidates c
                                     WHERE c.tenant_id = r2.tenant_id AND c.run_id = r2.id
                                       AND c.stage = ANY ($3::text[])) AS ready
               FROM sourcing_runs r2
               JOIN sourcing_jobs j ON j.tenant_id = r2.tenant_id AND j.id = r2.job_id
              WHERE r2.tenant_id = $1 AND r2.id = $2
           ) done
          WHERE r.tenant_id = $1 AND r.id = $2 AND r.status = 'running'
          RETURNING r.status`,
        [tenantId, runId, OPEN_STAGES, NOT_QUALIFIED_SUMMARY, NOT_QUALIFIED],
      ),
    );
    const status = rows[0]?.status;
    if (status === undefined) return 'not_running';
    return status === 'completed' ? 'completed' : 'open';
  }
}
