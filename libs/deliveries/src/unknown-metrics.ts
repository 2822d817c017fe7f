import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { CHANNEL_NAMES } from '@herald/channels';
import { getOrCreateMetric, withinScrapeDeadline } from '@herald/telemetry';
import { Gauge } from 'prom-client';
import type { DataSource } from 'typeorm';

/**
 * `herald_deliveries_unknown`, read at scrape time from the ledger (a partial index keeps it
 * cheap): deliveries held as `unknown`, waiting for an operator. Fleet-wide, by channel.
 */
@Injectable()
export class UnknownDeliveriesMetrics implements OnModuleInit {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    const dataSource = this.dataSource;
    getOrCreateMetric(
      'herald_deliveries_unknown',
      () =>
        new Gauge({
          name: 'herald_deliveries_unknown',
          help: 'Deliveries held as `unknown` (a crash left their send’s outcome unknown and their account takes no repeat), by channel: each waits for an operator to resend or close it.',
          labelNames: ['channel'],
          async collect() {
            const rows = await withinScrapeDeadline(
              dataSource.query<{ channel: string; n: string }[]>(
                `SELECT channel, count(*) AS n FROM deliveries WHERE status = 'unknown' GROUP BY channel`,
              ),
            );
            if (!rows) return; // Postgres away: keep the last value rather than report none
            this.reset();
            // Every channel is reported, 0 included, so "no unknown" is a value and not an absence.
            for (const channel of CHANNEL_NAMES) this.set({ channel }, 0);
            for (const row of rows) this.set({ channel: row.channel }, Number(row.n));
          },
        }),
    );
  }
}
