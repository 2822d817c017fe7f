import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type HeraldConfig } from '@herald/config';
import { QueueRoleModule } from '@herald/queues';
import { TelemetryModule } from '@herald/telemetry';
import { consumedQueues, WorkerModule } from './worker.module';

/** ROLE=worker: consumes WORKER_QUEUES (all by default). */
@Module({})
export class AppModule {
  static register(config: HeraldConfig): DynamicModule {
    const queues = consumedQueues(config);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ config }),
        // Before any feature module: its ListenerGuard must be the first global guard (404 on the wrong port).
        TelemetryModule,
        QueueRoleModule.forRoot({ consume: queues, workersComponent: false }),
        WorkerModule.register(queues),
      ],
    };
  }
}
