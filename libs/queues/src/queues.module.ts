import { BullModule } from '@nestjs/bullmq';
import { Global, Inject, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { ReadinessService } from '@herald/telemetry';
import { JobHandlerRegistry } from './job-handler.registry';
import { JobProducer } from './job-producer';
import { QUEUE_NAMES, type QueueName } from './jobs';
import { QueueDepthCollector } from './queue-depth.collector';
import { bullConnection, hashTaggedPrefix } from './redis-connection';
import { redisProviders, RedisLifecycle } from './redis.provider';
import { HeartbeatPublisher, HeartbeatReader } from './worker-heartbeats';

export interface QueuesModuleOptions {
  /** Queues this process consumes (their processors are registered by the app). */
  consume: readonly QueueName[];
  /** The api reports worker heartbeats in /ready; workers publish them. */
  workersComponent: boolean;
}

const QUEUES_OPTIONS = Symbol('QUEUES_OPTIONS');

@Global()
@Module({})
export class QueuesModule implements OnModuleInit {
  constructor(
    @Inject(QUEUES_OPTIONS) private readonly options: QueuesModuleOptions,
    private readonly registry: JobHandlerRegistry,
    private readonly publisher: HeartbeatPublisher,
    private readonly reader: HeartbeatReader,
    private readonly readiness: ReadinessService,
  ) {}

  static forRoot(options: QueuesModuleOptions): DynamicModule {
    return {
      module: QueuesModule,
      imports: [
        DiscoveryModule,
        BullModule.forRootAsync({
          inject: [HERALD_CONFIG],
          useFactory: (config: HeraldConfig) => ({
            connection: bullConnection(config.redis.url.reveal()),
            prefix: hashTaggedPrefix(config.redis.prefix),
          }),
        }),
        BullModule.registerQueue(...QUEUE_NAMES.map((name) => ({ name }))),
      ],
      providers: [
        { provide: QUEUES_OPTIONS, useValue: options },
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
    };
  }

  onModuleInit(): void {
    this.registry.expect(this.options.consume);
    this.publisher.consuming(this.options.consume);
    if (this.options.workersComponent) this.reader.registerReadiness(this.readiness);
  }
}
