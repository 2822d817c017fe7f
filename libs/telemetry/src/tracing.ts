/* eslint-disable @typescript-eslint/no-require-imports -- the SDK is required only when tracing is on: off means not even loaded */
import { loadTracingConfig, type HeraldConfig, type TracingConfig } from '@herald/config';
import { context, propagation, trace } from '@opentelemetry/api';

/** Probes are polled every few seconds: a span each would drown the traces that matter. */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/metrics']);

/**
 * Tracing in two steps. Loading this module (the first thing @herald/telemetry loads, and
 * @herald/telemetry is each entry point's first import) hooks the http, pg and ioredis
 * instrumentations before those modules are required — they patch on require. `startTracing`
 * then registers the provider once the role is known (its service name is herald-<role>).
 * With OTEL_EXPORTER_OTLP_ENDPOINT empty neither step does anything: no SDK loaded, no
 * provider registered, and @opentelemetry/api answers with its no-op tracer.
 */
const requested = loadTracingConfig();
const instrumentations = requested?.endpoint ? hookInstrumentations() : undefined;

let provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> } | undefined;

function hookInstrumentations(): { disable(): void }[] {
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } =
    require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } =
    require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const { registerInstrumentations } =
    require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const hooked = [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
      // Provider calls get their own client span (ChannelRegistry), and the exporter's own
      // requests must not trace themselves.
      disableOutgoingRequestInstrumentation: true,
    }),
    // Only inside a trace: BullMQ polls Redis and the beat queries Postgres all the time.
    new PgInstrumentation({ requireParentSpan: true }),
    new IORedisInstrumentation({ requireParentSpan: true }),
  ];
  registerInstrumentations({ instrumentations: hooked });
  return hooked;
}

/** Registers the tracer provider and the W3C propagator; a no-op when tracing is off. */
export function startTracing(config: HeraldConfig): boolean {
  const settings: TracingConfig = config.telemetry.tracing;
  if (!settings.endpoint || !instrumentations || provider) return provider !== undefined;
  const sdk = require('@opentelemetry/sdk-trace') as typeof import('@opentelemetry/sdk-trace');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { AsyncLocalStorageContextManager } =
    require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } =
    require('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const { resourceFromAttributes } =
    require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const tracerProvider = new sdk.TracerProvider({
    resource: resourceFromAttributes({
      'service.name': settings.serviceName || config.telemetry.serviceName || `herald-${config.app.role}`,
      'service.version': config.app.version,
    }),
    sampler: new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(settings.sampleRatio) }),
    spanProcessors: [
      new sdk.BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${settings.endpoint}/v1/traces` }),
        scheduledDelayMillis: settings.exportDelayMs,
      }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(tracerProvider);
  provider = tracerProvider;
  return true;
}

/** Exports the spans still batched (at shutdown, so the last job's spans are not lost). */
export async function stopTracing(): Promise<void> {
  const current = provider;
  provider = undefined;
  if (!current) return;
  await current.forceFlush().catch(() => undefined);
  await current.shutdown().catch(() => undefined);
  for (const instrumentation of instrumentations ?? []) instrumentation.disable();
}
