import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { gaugesOfOneRead } from '@herald/telemetry';
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
    gaugesOfOneRead(
      async () => {
        const [row] = await this.dataSource.query<{ active: string; age: number | null }[]>(
          `SELECT count(*) AS active,
                  extract(epoch FROM now() - min(COALESCE(last_progress_at, started_at, created_at))
                    FILTER (WHERE status = 'running')) AS age
             FROM sourcing_runs WHERE status IN ('queued', 'running', 'paused')`,
        );
        return { active: Number(row?.active ?? 0), age: Number(row?.age ?? 0) };
      },
      {
        active: { name: 'herald_sourcing_active_runs', help: 'Sourcing runs queued, running or paused.' },
        age: {
          name: 'herald_sourcing_oldest_progress_age_seconds',
          help: 'Seconds since the running sourcing run that progressed least recently moved a candidate (0 when none runs).',
        },
      },
    );
  }
}
