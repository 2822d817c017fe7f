import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type HeraldConfig } from '@herald/config';
import { PersistenceModule } from '@herald/persistence';
import { QueuesModule } from '@herald/queues';
import { TelemetryModule } from '@herald/telemetry';
import { ChannelsModule } from '@herald/channels';
import { RateLimitModule } from '@herald/rate-limit';
import { ResilienceModule } from '@herald/resilience';
import { TimeModule } from '@herald/time';
import { BeatModule } from './beat.module';

@Module({})
export class AppModule {
  static register(config: HeraldConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ config }),
        TelemetryModule.forRoot(config),
        PersistenceModule.forRoot(),
        QueuesModule.forRoot({ consume: [], workersComponent: false }),
        TimeModule.forRoot(),
        RateLimitModule.forRoot(),
        ResilienceModule.forRoot(),
        ChannelsModule.forRoot(),
        BeatModule,
      ],
    };
  }
}
