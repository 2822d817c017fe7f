import { Module, type DynamicModule } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { REDIS, RedisKeys } from '@herald/queues';
import { HeraldLogger, HeraldMetrics } from '@herald/telemetry';
import { CLOCK, type Clock } from '@herald/time';
import type { Redis } from 'ioredis';

import type { DataSource } from 'typeorm';
import { QuotaService, type QuotaServiceOptions } from './quota.service';

export type RateLimitModuleOptions = Pick<
  QuotaServiceOptions,
  'leaseFraction' | 'windowSlackMs' | 'runCapTtlMs' | 'reservationTtlMs'
>;

/**
 * Provides QuotaService. Needs REDIS and RedisKeys (QueuesModule), the TypeORM DataSource
 * (PersistenceModule), CLOCK (TimeModule), HeraldMetrics and the logger (TelemetryModule).
 */
@Module({})
export class RateLimitModule {
  static forRoot(options: RateLimitModuleOptions = {}): DynamicModule {
    return {
      module: RateLimitModule,
      global: true,
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
              ...options,
              redis,
              keys,
              dataSource,
              clock,
              metrics,
              onBackendChange: (backend, cause) =>
                backend === 'postgres'
                  ? logger.warn(
                      { err: cause && { message: cause.message } },
                      'quota decisions moved to postgres',
                    )
                  : logger.info('quota decisions back on redis'),
              onLeaseError: (error) =>
                logger.warn({ err: { message: error.message } }, 'quota lease from postgres failed'),
            }),
        },
      ],
      exports: [QuotaService],
    };
  }
}
