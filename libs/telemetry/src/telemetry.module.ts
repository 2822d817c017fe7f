import { Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { BuildInfo } from './build-info';
import { HealthController } from './health.controller';
import { HeraldLogger } from './herald-logger';
import { loggerModule } from './logging';
import { HeraldMetrics } from './metrics';
import { MetricsController } from './metrics.controller';
import { ReadinessService } from './readiness.service';
import { ListenerGuard, RouteDeclarationCheck, ServerPorts } from './routes';
import { TracingShutdown } from './tracing-shutdown';

const LOGGER = loggerModule();

/**
 * Logging, metrics and health for one process: one instance however many modules import it
 * (a static module), so every module that logs, counts or reports readiness imports it.
 */
@Module({
  imports: [
    LOGGER,
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
    BuildInfo,
    ReadinessService,
    HeraldLogger,
    ServerPorts,
    RouteDeclarationCheck,
    TracingShutdown,
    // The first guard of every app: a route is served only on the listener its access allows.
    { provide: APP_GUARD, useClass: ListenerGuard },
  ],
  // LOGGER: nestjs-pino's PinoLogger, for the modules that inject it directly.
  exports: [LOGGER, HeraldMetrics, ReadinessService, HeraldLogger, ServerPorts, RouteDeclarationCheck],
})
export class TelemetryModule {}
