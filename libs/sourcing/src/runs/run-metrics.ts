import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { getOrCreateMetric, withinScrapeDeadline } from '@herald/telemetry';
import { Gauge } from 'prom-client';
import type { DataSource } from 'typeorm';

/**
 * `herald_sourcing_active_runs` and `herald_sourcing_oldest_progress_age_seconds`, read at
 * scrape time (the beat registers them): runs queued, running or paused, and how long the
 * running run that progressed least recently has gone without a candidate moving.
 */
@Injectable()
export class SourcingRunMetrics implements OnModuleInit {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    const dataSource = this.dataSource;
    let last: Promise<{ active: number; age: number } | undefined> | undefined;
    let lastAt = 0;
    const read = () => {
      if (!last || Date.now() - lastAt > 1000) {
        lastAt = Date.now();
        last = withinScrapeDeadline(
          dataSource
            .query<{ active: string; age: number | null }[]>(
              `SELECT count(*) AS active,
                      extract(epoch FROM now() - min(COALESCE(last_progress_at, started_at, created_at))
                        FILTER (WHERE status = 'running')) AS age
                 FROM sourcing_runs WHERE status IN ('queued', 'running', 'paused')`,
            )
            .then((rows) => ({ active: Number(rows[0]?.active ?? 0), age: Number(rows[0]?.age ?? 0) })),
        );
      }
      return last;
    };
    getOrCreateMetric(
      'herald_sourcing_active_runs',
      () =>
        new Gauge({
          name: 'herald_sourcing_active_runs',
          help: 'Sourcing runs queued, running or paused.',
          async collect() {
            const value = await read();
            if (value) this.set(value.active);
          },
        }),
    );
    getOrCreateMetric(
      'herald_sourcing_oldest_progress_age_seconds',
      () =>
        new Gauge({
          name: 'herald_sourcing_oldest_progress_age_seconds',
          help: 'Seconds since the running sourcing run that progressed least recently moved a candidate (0 when none runs).',
          async collect() {
            const value = await read();
            if (value) this.set(value.age);
          },
        }),
    );
  }
}
