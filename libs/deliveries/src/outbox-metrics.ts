import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { gaugesOfOneRead } from '@herald/telemetry';
import type { DataSource } from 'typeorm';

/**
 * `herald_outbox_pending` and `herald_outbox_lag_seconds`, read at scrape time: jobs accepted
 * (a 202 answered) but not yet on a queue, and how long the oldest of them has waited.
 */
@Injectable()
export class OutboxMetrics implements OnModuleInit {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    gaugesOfOneRead(
      async () => {
        const [row] = await this.dataSource.query<{ pending: string; lag: number | null }[]>(
          `SELECT count(*) AS pending, extract(epoch FROM now() - min(created_at)) AS lag
             FROM outbox WHERE dispatched_at IS NULL`,
        );
        return { pending: Number(row?.pending ?? 0), lag: Number(row?.lag ?? 0) };
      },
      {
        pending: {
          name: 'herald_outbox_pending',
          help: 'Outbox rows (accepted work) not yet dispatched to a queue.',
        },
        lag: {
          name: 'herald_outbox_lag_seconds',
          help: 'Age of the oldest undispatched outbox row (0 when none).',
        },
      },
    );
  }
}
