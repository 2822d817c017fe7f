import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { PersistenceModule } from '@herald/persistence';
import { QueuesModule, REDIS, RedisKeys } from '@herald/queues';
import { HeraldLogger, HeraldMetrics, TelemetryModule } from '@herald/telemetry';
import { CLOCK, TimeModule, type Clock } from '@herald/time';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { QuotaService } from './quota.service';

/** Provides QuotaService: Redis admits within leases, Postgres is the fallback (ADR 0001). */
@Module({
  imports: [QueuesModule, PersistenceModule, TimeModule, TelemetryModule],
  providers: [
    {
      provide: QuotaService,
      inject: [REDIS, RedisKeys, getDataSourceToken(), CLOCK, HeraldMetrics, HeraldLogger],
      useFactory: (
        redis: Redis,
        keys: RedisKeys,
        dataSource: DataSource,
        clock: Clock,
        metrics: HeraldMetrics,
        logger: HeraldLogger,
      ) =>
        new QuotaService({
          redis,
          keys,
          dataSource,
          clock,
          metrics,
          onBackendChange: (backend, cause) =>
            backend === 'postgres'
              ? logger.warn({ err: cause && { message: cause.message } }, 'quota decisions moved to postgres')
              : logger.info('quota decisions back on redis'),
          onLeaseError: (error) =>
            logger.warn({ err: { message: error.message } }, 'quota lease from postgres failed'),
        }),
    },
  ],
  exports: [QuotaService],
})
export class RateLimitModule {}
