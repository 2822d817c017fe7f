import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type HeraldConfig } from '@herald/config';
import { QueueRoleModule } from '@herald/queues';
import { TelemetryModule } from '@herald/telemetry';
import { BeatModule } from './beat.module';

/** ROLE=beat: consumes no queue; its duties run while it leads. */
@Module({})
export class AppModule {
  static register(config: HeraldConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ config }),
        // Before any feature module: its ListenerGuard must be the first global guard (404 on the wrong port).
        TelemetryModule,
        QueueRoleModule.forRoot({ consume: [], workersComponent: false }),
        BeatModule,
      ],
    };
  }
}
