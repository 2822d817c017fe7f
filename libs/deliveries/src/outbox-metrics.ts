import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { getOrCreateMetric, withinScrapeDeadline } from '@herald/telemetry';
import { Gauge } from 'prom-client';
import type { DataSource } from 'typeorm';

/**
 * `herald_outbox_pending` and `herald_outbox_lag_seconds`, read at scrape time: jobs accepted
 * (a 202 answered) but not yet on a queue, and how long the oldest of them has waited.
 */
@Injectable()
export class OutboxMetrics implements OnModuleInit {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    const dataSource = this.dataSource;
    let last: Promise<{ pending: number; lag: number } | undefined> | undefined;
    let lastAt = 0;
    // Both gauges share one query per scrape.
    const read = () => {
      if (!last || Date.now() - lastAt > 1000) {
        lastAt = Date.now();
        last = withinScrapeDeadline(
          dataSource
            .query<{ pending: string; lag: number | null }[]>(
              `SELECT count(*) AS pending, extract(epoch FROM now() - min(created_at)) AS lag
                 FROM outbox WHERE dispatched_at IS NULL`,
            )
            .then((rows) => ({ pending: Number(rows[0]?.pending ?? 0), lag: Number(rows[0]?.lag ?? 0) })),
        );
      }
      return last;
    };
    getOrCreateMetric(
      'herald_outbox_pending',
      () =>
        new Gauge({
          name: 'herald_outbox_pending',
          help: 'Outbox rows (accepted work) not yet dispatched to a queue.',
          async collect() {
            const value = await read();
            if (value) this.set(value.pending);
          },
        }),
    );
    getOrCreateMetric(
      'herald_outbox_lag_seconds',
      () =>
        new Gauge({
          name: 'herald_outbox_lag_seconds',
          help: 'Age of the oldest undispatched outbox row (0 when none).',
          async collect() {
            const value = await read();
            if (value) this.set(value.lag);
          },
        }),
    );
  }
}
