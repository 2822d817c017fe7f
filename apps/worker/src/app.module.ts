import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type HeraldConfig } from '@herald/config';
import { PersistenceModule } from '@herald/persistence';
import { QueuesModule } from '@herald/queues';
import { TelemetryModule } from '@herald/telemetry';
import { consumedQueues, WorkerModule } from './worker.module';

@Module({})
export class AppModule {
  static register(config: HeraldConfig): DynamicModule {
    const queues = consumedQueues(config);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ config }),
        TelemetryModule.forRoot(config),
        PersistenceModule.forRoot(),
        QueuesModule.forRoot({ consume: queues, workersComponent: false }),
        WorkerModule.register(queues),
      ],
    };
  }
}
