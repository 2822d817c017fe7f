import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import type { HeraldConfig } from '@herald/config';
import { HealthController } from './health.controller';
import { HeraldLogger } from './herald-logger';
import { loggerModule } from './logging';
import { HeraldMetrics } from './metrics';
import { MetricsController } from './metrics.controller';
import { ReadinessService } from './readiness.service';
import { ListenerGuard, RouteDeclarationCheck, ServerPorts } from './routes';

/** Logging, metrics and health for one process. Registered once in each app's root module. */
@Global()
@Module({})
export class TelemetryModule {
  static forRoot(config: HeraldConfig): DynamicModule {
    return {
      module: TelemetryModule,
      imports: [
        loggerModule(config),
        DiscoveryModule,
        PrometheusModule.register({
          path: '/metrics',
          controller: MetricsController,
          defaultMetrics: { enabled: true, config: { prefix: 'herald_' } },
        }),
      ],
      controllers: [HealthController],
      providers: [
        HeraldMetrics,
        ReadinessService,
        HeraldLogger,
        ServerPorts,
        RouteDeclarationCheck,
        // The first guard of every app: a route is served only on the listener its access allows.
        { provide: APP_GUARD, useClass: ListenerGuard },
      ],
      exports: [HeraldMetrics, ReadinessService, HeraldLogger, ServerPorts, RouteDeclarationCheck],
    };
  }
}
