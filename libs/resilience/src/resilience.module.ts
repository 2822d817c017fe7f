import { Module } from '@nestjs/common';
import { QueuesModule, REDIS, RedisKeys } from '@herald/queues';
import { HeraldMetrics, TelemetryModule } from '@herald/telemetry';
import { CLOCK, TimeModule, type Clock } from '@herald/time';
import type { RedisClient } from '@herald/queues';
import { CircuitBreaker } from './circuit-breaker';

/** Provides the fleet-wide CircuitBreaker, its state in Redis (ADR 0002). */
@Module({
  imports: [QueuesModule, TimeModule, TelemetryModule],
  providers: [
    {
      provide: CircuitBreaker,
      inject: [REDIS, RedisKeys, CLOCK, HeraldMetrics],
      useFactory: (redis: RedisClient, keys: RedisKeys, clock: Clock, metrics: HeraldMetrics) =>
        new CircuitBreaker({ redis, keys, clock, metrics }),
    },
  ],
  exports: [CircuitBreaker],
})
export class ResilienceModule {}
