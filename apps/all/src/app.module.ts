import { Module, type DynamicModule } from '@nestjs/common';
import { ApiModule } from '@herald/app-api';
import { BeatModule } from '@herald/app-beat';
import { consumedQueues, WorkerModule } from '@herald/app-worker';
import { ConfigModule, type HeraldConfig } from '@herald/config';
import { QueueRoleModule } from '@herald/queues';
import { TelemetryModule } from '@herald/telemetry';

/** ROLE=all: api, worker and beat in one process, for small installs and development. */
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
        QueueRoleModule.forRoot({ consume: queues, workersComponent: true }),
        ApiModule,
        WorkerModule.register(queues),
        BeatModule,
      ],
    };
  }
}
