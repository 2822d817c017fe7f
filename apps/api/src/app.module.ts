import { Module, type DynamicModule } from '@nestjs/common';
import { ChannelsModule } from '@herald/channels';
import { ConfigModule, type HeraldConfig } from '@herald/config';
import { PersistenceModule } from '@herald/persistence';
import { QueuesModule } from '@herald/queues';
import { RateLimitModule } from '@herald/rate-limit';
import { ResilienceModule } from '@herald/resilience';
import { TelemetryModule } from '@herald/telemetry';
import { TimeModule } from '@herald/time';
import { ApiModule } from './api.module';

@Module({})
export class AppModule {
  static register(config: HeraldConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ config }),
        TelemetryModule.forRoot(config),
        PersistenceModule.forRoot(),
        QueuesModule.forRoot({ consume: [], workersComponent: true }),
        // Sender accounts (credentials), quota usage and circuit breakers, as the worker has them.
        TimeModule.forRoot(),
        RateLimitModule.forRoot(),
        ResilienceModule.forRoot(),
        ChannelsModule.forRoot(),
        ApiModule,
      ],
    };
  }
}
