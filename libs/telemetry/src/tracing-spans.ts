import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { RequestContext, type TraceContext } from './request-context';

/** Herald's own spans (the job and the provider call); http, pg and ioredis have theirs. */
const tracer = () => trace.getTracer('herald');

/** The W3C headers of the active span (`traceparent`, `tracestate`); empty when tracing is off. */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** The active span's `traceparent`, to carry in job data; undefined when there is none. */
export function currentTraceparent(): string | undefined {
  return traceHeaders().traceparent;
}

/** The ids for a log line: the active span's, when one records. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const ids = span.spanContext();
  return isSpanContextValid(ids) ? { trace_id: ids.traceId, span_id: ids.spanId } : undefined;
}

/**
 * Runs a job's work in a consumer span whose parent is the producer's `traceparent` (the span
 * that enqueued it, in another process), so the api's request and the worker's job are one trace.
 */
export function inJobSpan<T>(
  traceparent: string | undefined,
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  const parent = traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
  return tracer().startActiveSpan(name, { kind: SpanKind.CONSUMER, attributes }, parent, (span) =>
    settle(span, work),
  );
}

/** Runs a job with its trace context (log fields) restored and in its consumer span. */
export function inJobContext<T>(
  trace: TraceContext,
  span: { name: string; attributes: Attributes },
  work: () => Promise<T>,
): Promise<T> {
  return RequestContext.run(trace, () => inJobSpan(trace.traceparent, span.name, span.attributes, work));
}

/** Runs one call to a provider (SMTP server, webhook endpoint) in a client span. */
export function inClientSpan<T>(name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, (span) => settle(span, work));
}

const JOB_MOVES = new Set(['DelayedError', 'WaitingError', 'WaitingChildrenError', 'RateLimitError']);

async function settle<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    // BullMQ's moves (deferred to later, handed back to the queue) are thrown but are not failures.
    if (error instanceof Error && JOB_MOVES.has(error.name)) throw error;
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    span.end();
  }
}
