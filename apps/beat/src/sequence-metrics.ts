import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ENROLLMENT_STATUSES, EnrollmentTicker } from '@herald/sequences';
import { getOrCreateMetric, withinScrapeDeadline } from '@herald/telemetry';
import { Gauge } from 'prom-client';

/**
 * `herald_enrollments{state}` and `herald_enrollment_ticker_lag_seconds`, read from Postgres at
 * scrape time by the beat (every replica reports the same values; dashboards take the max).
 * The lag is how long the oldest due sequence step has been waiting for the ticker: it grows
 * when no beat leads or the ticker cannot keep up.
 */
@Injectable()
export class SequenceMetrics implements OnModuleInit {
  constructor(private readonly ticker: EnrollmentTicker) {}

  onModuleInit(): void {
    const ticker = this.ticker;
    getOrCreateMetric(
      'herald_enrollments',
      () =>
        new Gauge({
          name: 'herald_enrollments',
          help: 'Sequence enrollments by state (active, completed, replied, stopped).',
          labelNames: ['state'],
          async collect() {
            const counts = await withinScrapeDeadline(ticker.countsByState());
            if (!counts) return;
            for (const state of ENROLLMENT_STATUSES) this.set({ state }, counts[state]);
          },
        }),
    );
    getOrCreateMetric(
      'herald_enrollment_ticker_lag_seconds',
      () =>
        new Gauge({
          name: 'herald_enrollment_ticker_lag_seconds',
          help: 'How long the oldest due sequence step has waited to become a delivery (0 when none waits).',
          async collect() {
            const lag = await withinScrapeDeadline(ticker.lagSeconds());
            if (lag !== undefined) this.set(lag);
          },
        }),
    );
  }
}
