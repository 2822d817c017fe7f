import { getOrCreateMetric } from '@herald/telemetry';
import { Counter } from 'prom-client';

/**
 * The lead pipeline's counters, shared by finding and qualifying (one registration whichever
 * module asks first). `tier` is empty until a candidate is scored.
 */
export const sourcingCandidates = (): Counter<'stage' | 'tier'> =>
  getOrCreateMetric(
    'herald_sourcing_candidates_total',
    () =>
      new Counter({
        name: 'herald_sourcing_candidates_total',
        help: 'Candidates entering a stage (discovered, duplicate, assessed, enriched, scored, handed_off, rejected), by tier once scored.',
        labelNames: ['stage', 'tier'] as const,
      }),
  );

/** kind: search | visit | enrich | assess; outcome: ok, or why not (timeout, http_5xx, address_refused, quota, breaker…). */
export const sourcingRequests = (): Counter<'kind' | 'outcome'> =>
  getOrCreateMetric(
    'herald_sourcing_requests_total',
    () =>
      new Counter({
        name: 'herald_sourcing_requests_total',
        help: 'Requests to sources (directory searches, profile visits, enrichment lookups, site assessments) by outcome.',
        labelNames: ['kind', 'outcome'] as const,
      }),
  );

/** Every outcome's series exists from boot at 0, so `increase()` sees a first recovery (the alert on `failed`). */
export const RECOVERY_OUTCOMES = [
  'retried',
  'failed',
  'removed',
  'readded',
  'qualify_retried',
  'qualify_readded',
  'qualify_failed',
] as const;

/**
 * The beat's sweeps of `sourcing.run` jobs: of jobs BullMQ failed, `retried` (handed back to the
 * queue), `failed` (the run marked failed with the job's reason), `removed` (a spent job of a run
 * that is no longer active, or that a resume replaced); `readded` (an active run's job lost from
 * Redis, or completed before its search was over, added again). And of `sourcing.qualify` jobs
 * (lost-qualify-jobs), per job: `qualify_retried` (failed for good, handed back),
 * `qualify_readded` (lost, its open candidates added again), `qualify_failed` (its candidates
 * recovered too often closed as not qualified).
 */
export const sourcingRunRecoveries = (): Counter<'outcome'> =>
  getOrCreateMetric(
    'herald_sourcing_run_recoveries_total',
    () =>
      new Counter({
        name: 'herald_sourcing_run_recoveries_total',
        help: 'Sourcing run jobs the beat recovered: failed by BullMQ and handed back (retried), turned into a failed run (failed) or removed as spent (removed); lost from Redis and added again (readded). Qualify jobs likewise: qualify_retried, qualify_readded, and qualify_failed (their candidates closed as not qualified).',
        labelNames: ['outcome'] as const,
      }),
  );

/**
 * Candidates closed as not qualified that a tenant asked to qualify again (requalify), by the
 * stage they went back to (the one their stored facts show they reached). Their earlier stages
 * are not counted again in herald_sourcing_candidates_total: only the stages they go on to.
 */
export const sourcingRequalified = (): Counter<'stage'> =>
  getOrCreateMetric(
    'herald_sourcing_candidates_requalified_total',
    () =>
      new Counter({
        name: 'herald_sourcing_candidates_requalified_total',
        help: 'Candidates closed as not qualified and put back to qualifying on request, by the stage they went back to (discovered, assessed, enriched, scored).',
        labelNames: ['stage'] as const,
      }),
  );
