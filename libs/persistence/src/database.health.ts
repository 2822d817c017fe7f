import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { getOrCreateMetric, HeraldMetrics, ReadinessService } from '@herald/telemetry';
import { Gauge } from 'prom-client';
import type { DataSource } from 'typeorm';

interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  on(event: 'error', listener: (error: Error) => void): void;
}

/**
 * Registers the `database` readiness component (one round trip on a pooled connection),
 * counts Postgres errors, and exports the pool's size and waiters at scrape time.
 */
@Injectable()
export class DatabaseHealth implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly readiness: ReadinessService,
    private readonly metrics: HeraldMetrics,
  ) {}

  private pool(): PgPool | undefined {
    return (this.dataSource.driver as unknown as { master?: PgPool }).master;
  }

  onModuleInit(): void {
    // An idle pooled connection the server dropped: counted here (pg then discards it).
    this.pool()?.on('error', () => this.metrics.dbErrors.inc({ kind: 'connection' }));
    const pool = () => this.pool();
    getOrCreateMetric(
      'herald_db_pool_connections',
      () =>
        new Gauge({
          name: 'herald_db_pool_connections',
          help: 'Postgres pool connections of this process by state (total, idle, waiting clients).',
          labelNames: ['state'],
          collect() {
            const p = pool();
            if (!p) return;
            this.set({ state: 'total' }, p.totalCount);
            this.set({ state: 'idle' }, p.idleCount);
            this.set({ state: 'waiting' }, p.waitingCount);
          },
        }),
    );
    this.readiness.register('database', {
      required: true,
      check: async () => {
        try {
          await this.dataSource.query('SELECT 1');
        } catch (error) {
          this.metrics.dbErrors.inc({ kind: 'readiness' });
          throw error;
        }
        const p = this.pool();
        return p ? { pool: { total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount } } : {};
      },
    });
  }
}
