import { BullModule } from '@nestjs/bullmq';
import type { ConnectionOptions } from 'bullmq';
import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { TelemetryModule } from '@herald/telemetry';
import { JobHandlerRegistry } from './job-handler.registry';
import { JobProducer } from './job-producer';
import { QUEUE_NAMES } from './jobs';
import { QueueDepthCollector } from './queue-depth.collector';
import { BULL_CONNECTION, BullConnectionModule } from './bull-connection';
import { hashTaggedPrefix } from './redis-connection';
import { redisProviders, RedisLifecycle } from './redis.provider';
import { HeartbeatPublisher, HeartbeatReader } from './worker-heartbeats';

/**
 * Redis and the queues: the shared client (REDIS, RedisKeys), the typed JobProducer, the handler
 * registry and worker heartbeats. Import it wherever one of these is injected; which queues the
 * process consumes is the root's to say, with QueueRoleModule.
 */
@Module({
  imports: [
    DiscoveryModule,
    TelemetryModule,
    BullModule.forRootAsync({
      imports: [BullConnectionModule],
      inject: [HERALD_CONFIG, BULL_CONNECTION],
      useFactory: (config: HeraldConfig, connection: ConnectionOptions) => ({
        connection,
        prefix: hashTaggedPrefix(config.redis.prefix),
      }),
    }),
    BullModule.registerQueue(...QUEUE_NAMES.map((name) => ({ name }))),
  ],
  providers: [
    ...redisProviders,
    RedisLifecycle,
    JobHandlerRegistry,
    JobProducer,
    QueueDepthCollector,
    HeartbeatPublisher,
    HeartbeatReader,
  ],
  exports: [
    ...redisProviders,
    JobProducer,
    JobHandlerRegistry,
    HeartbeatPublisher,
    HeartbeatReader,
    BullModule,
  ],
})
export class QueuesModule {}
