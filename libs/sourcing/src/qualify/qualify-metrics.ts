import { Injectable } from '@nestjs/common';
import { getOrCreateMetric } from '@herald/telemetry';
import { sourcingCandidates, sourcingRequests } from '../sourcing-metrics';
import { Counter, Histogram } from 'prom-client';

/**
 * The qualify half's metrics, under the names the session fixed for the lead pipeline (the
 * candidate and request counters are the ones finding registers, libs/sourcing/src/sourcing-metrics.ts).
 */
@Injectable()
export class QualifyMetrics {
  readonly candidates = sourcingCandidates();
  readonly requests = sourcingRequests();
  readonly assessmentSeconds = getOrCreateMetric(
    'herald_sourcing_assessment_seconds',
    () =>
      new Histogram({
        name: 'herald_sourcing_assessment_seconds',
        help: 'How long a website assessment fetch took (robots.txt, redirects and page), cache misses only.',
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30],
      }),
  );
  readonly cache = getOrCreateMetric(
    'herald_sourcing_cache_total',
    () =>
      new Counter({
        name: 'herald_sourcing_cache_total',
        help: 'Assessment and enrichment cache lookups by cache and result (hit or miss).',
        labelNames: ['cache', 'result'],
      }),
  );
}
