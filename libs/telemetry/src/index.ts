// First: loading it hooks the instrumentations before http, pg and ioredis are required.
export { startTracing, stopTracing } from './tracing';
export {
  activeTraceIds,
  currentTraceparent,
  inClientSpan,
  inJobContext,
  inJobSpan,
  traceHeaders,
} from './tracing-spans';
export { HealthController } from './health.controller';
export { httpMetrics, publicListenerOnly, requestContext } from './http-middleware';
export { strictHttpAdapter } from './http-adapter';
export { answerClientErrors } from './client-errors';
export { MetricsController } from './metrics.controller';
export { logCorrelation, REDACT_PATHS, serviceName } from './logging';
export { getOrCreate as getOrCreateMetric, HeraldMetrics } from './metrics';
export { SCRAPE_READ_DEADLINE_MS, withinScrapeDeadline } from './scrape-deadline';
export { gaugesOfOneRead } from './one-read-gauges';
export { accountSeries, type AccountSeries, type LiveAccounts } from './account-series';
export {
  ReadinessService,
  type ComponentStatus,
  type ReadinessCheck,
  type ReadinessReport,
} from './readiness.service';
export { RequestContext, type TraceContext } from './request-context';
export { TelemetryModule } from './telemetry.module';
export { serve, type ServeOptions } from './serve';
export { runProcess } from './run-process';
export { HeraldLogger } from './herald-logger';
export {
  DeclareAccess,
  listenersOf,
  ListenerGuard,
  ROUTE_ACCESS,
  ROUTE_ACCESS_VALUES,
  routeAccessOf,
  RouteDeclarationCheck,
  ServerPorts,
  type DeclaredRoute,
  type RouteAccess,
} from './routes';
