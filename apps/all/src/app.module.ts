import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type HeraldConfig } from '@herald/config';
import { PersistenceModule } from '@herald/persistence';
import { QueuesModule } from '@herald/queues';
import { TelemetryModule } from '@herald/telemetry';
import { ChannelsModule } from '@herald/channels';
import { RateLimitModule } from '@herald/rate-limit';
import { ResilienceModule } from '@herald/resilience';
import { TimeModule } from '@herald/time';
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
        TelemetryModule.forRoot(config),
        PersistenceModule.forRoot(),
        QueuesModule.forRoot({ consume: queues, workersComponent: true }),
        TimeModule.forRoot(),
        RateLimitModule.forRoot(),
        ResilienceModule.forRoot(),
        ChannelsModule.forRoot(),
        ApiModule,
        WorkerModule.register(queues),
        BeatModule,
      ],
    };
  }
}
