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
