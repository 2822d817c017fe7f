import { Inject, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { ReadinessService, TelemetryModule } from '@herald/telemetry';
import { JobHandlerRegistry } from './job-handler.registry';
import type { QueueName } from './jobs';
import { QueuesModule } from './queues.module';
import { HeartbeatPublisher, HeartbeatReader } from './worker-heartbeats';

export interface QueueRoleOptions {
  /** Queues this process consumes (their processors are registered by the app). */
  consume: readonly QueueName[];
  /** The api reports worker heartbeats in /ready; workers publish them. */
  workersComponent: boolean;
}

const QUEUE_ROLE_OPTIONS = Symbol('QUEUE_ROLE_OPTIONS');

/**
 * What this process does with the queues, declared once by its root module: the boot fails when
 * a consumed queue's job has no handler, heartbeats name the queues, and the api reports workers.
 */
@Module({})
export class QueueRoleModule implements OnModuleInit {
  constructor(
    @Inject(QUEUE_ROLE_OPTIONS) private readonly options: QueueRoleOptions,
    private readonly registry: JobHandlerRegistry,
    private readonly publisher: HeartbeatPublisher,
    private readonly reader: HeartbeatReader,
    private readonly readiness: ReadinessService,
  ) {}

  static forRoot(options: QueueRoleOptions): DynamicModule {
    return {
      module: QueueRoleModule,
      imports: [QueuesModule, TelemetryModule],
      providers: [{ provide: QUEUE_ROLE_OPTIONS, useValue: options }],
    };
  }

  onModuleInit(): void {
    this.registry.expect(this.options.consume);
    this.publisher.consuming(this.options.consume);
    if (this.options.workersComponent) this.reader.registerReadiness(this.readiness);
  }
}
