import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type HeraldConfig } from '@herald/config';
import { PersistenceModule } from '@herald/persistence';
import { QueuesModule } from '@herald/queues';
import { TelemetryModule } from '@herald/telemetry';
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
        ApiModule,
      ],
    };
  }
}
