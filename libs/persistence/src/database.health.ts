import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ReadinessService } from '@herald/telemetry';
import type { DataSource } from 'typeorm';

/** Registers the `database` readiness component: one round trip on a pooled connection. */
@Injectable()
export class DatabaseHealth implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly readiness: ReadinessService,
  ) {}

  onModuleInit(): void {
    this.readiness.register('database', {
      required: true,
      check: async () => {
        await this.dataSource.query('SELECT 1');
        const pool = (
          this.dataSource.driver as unknown as {
            master?: { totalCount: number; idleCount: number; waitingCount: number };
          }
        ).master;
        return pool
          ? { pool: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } }
          : {};
      },
    });
  }
}
