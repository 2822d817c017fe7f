import { Global, Module, type DynamicModule } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import type { HeraldConfig } from '@herald/config';
import { HealthController } from './health.controller';
import { HeraldLogger } from './herald-logger';
import { loggerModule } from './logging';
import { HeraldMetrics } from './metrics';
import { ReadinessService } from './readiness.service';

/** Logging, metrics and health for one process. Registered once in each app's root module. */
@Global()
@Module({})
export class TelemetryModule {
  static forRoot(config: HeraldConfig): DynamicModule {
    return {
      module: TelemetryModule,
      imports: [
        loggerModule(config),
        PrometheusModule.register({
          path: '/metrics',
          defaultMetrics: { enabled: true, config: { prefix: 'herald_' } },
        }),
      ],
      controllers: [HealthController],
      providers: [HeraldMetrics, ReadinessService, HeraldLogger],
      exports: [HeraldMetrics, ReadinessService, HeraldLogger],
    };
  }
}
