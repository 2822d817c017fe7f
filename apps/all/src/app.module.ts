import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type HeraldConfig } from '@herald/config';
import { QueueRoleModule } from '@herald/queues';
import { ApiModule } from '../../api/src/api.module';
import { BeatModule } from '../../beat/src/beat.module';
import { consumedQueues, WorkerModule } from '../../worker/src/worker.module';

/** ROLE=all: api, worker and beat in one process, for small installs and development. */
@Module({})
export class AppModule {
  static register(config: HeraldConfig): DynamicModule {
    const queues = consumedQueues(config);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ config }),
        QueueRoleModule.forRoot({ consume: queues, workersComponent: true }),
        ApiModule,
        WorkerModule.register(queues),
        BeatModule,
      ],
    };
  }
}
