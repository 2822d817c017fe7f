import { Module, type DynamicModule } from '@nestjs/common';
import { REDIS, RedisKeys } from '@herald/queues';
import { HeraldMetrics } from '@herald/telemetry';
import { CLOCK, type Clock } from '@herald/time';
import type { Redis } from 'ioredis';
import { CircuitBreaker } from './circuit-breaker';
import type { CircuitSettings } from './circuit-state';

/**
 * Provides the fleet-wide CircuitBreaker. Needs REDIS and RedisKeys (QueuesModule), CLOCK
 * (TimeModule) and HeraldMetrics (TelemetryModule) from the app's root module.
 */
@Module({})
export class ResilienceModule {
  static forRoot(options: { settings?: Partial<CircuitSettings> } = {}): DynamicModule {
    return {
      module: ResilienceModule,
      global: true,
      providers: [
        {
          provide: CircuitBreaker,
          inject: [REDIS, RedisKeys, CLOCK, HeraldMetrics],
          useFactory: (redis: Redis, keys: RedisKeys, clock: Clock, metrics: HeraldMetrics) =>
            new CircuitBreaker({ redis, keys, clock, metrics, settings: options.settings ?? {} }),
        },
      ],
      exports: [CircuitBreaker],
    };
  }
}
