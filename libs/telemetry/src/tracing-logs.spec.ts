import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import pino from 'pino';
import { Writable } from 'node:stream';
import { logCorrelation } from './logging';
import { RequestContext } from './request-context';
import { currentTraceparent, inClientSpan, inJobSpan } from './tracing-spans';

/** A pino logger with Herald's mixin, writing its JSON lines into `lines`. */
function logger(lines: Record<string, unknown>[]) {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return pino({ mixin: logCorrelation }, sink);
}

describe('trace ids in log lines', () => {
  it('has none while no tracer provider is registered (tracing off), and keeps request_id', () => {
    const lines: Record<string, unknown>[] = [];
    RequestContext.run({ request_id: 'req-0000-off' }, () => logger(lines).info('no tracing'));
    expect(lines[0]).toMatchObject({ request_id: 'req-0000-off' });
    expect(lines[0]?.trace_id).toBeUndefined();
    expect(currentTraceparent()).toBeUndefined();
  });

  describe('with a provider registered', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

    beforeAll(() => {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
      trace.setGlobalTracerProvider(provider);
    });
    afterAll(async () => {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    });

    it('carries the active span’s trace_id and span_id beside request_id', async () => {
      const lines: Record<string, unknown>[] = [];
      const log = logger(lines);
      await RequestContext.run({ request_id: 'req-0000-on' }, () =>
        inClientSpan('webhook send', {}, () => {
          log.info('calling the provider');
          return Promise.resolve();
        }),
      );
      const [span] = exporter.getFinishedSpans();
      expect(span?.name).toBe('webhook send');
      expect(lines[0]).toMatchObject({
        request_id: 'req-0000-on',
        trace_id: span?.spanContext().traceId,
        span_id: span?.spanContext().spanId,
      });
    });

    it('continues a job’s carried traceparent: its lines carry the producer’s trace_id', async () => {
      exporter.reset();
      const tracer = trace.getTracer('test');
      const producer = tracer.startSpan('POST /v1/campaigns/:id/runs');
      const traceparent = context.with(trace.setSpan(context.active(), producer), currentTraceparent);
      producer.end();
      expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

      const lines: Record<string, unknown>[] = [];
      const log = logger(lines);
      await RequestContext.run({ traceparent }, () =>
        inJobSpan(traceparent, 'deliveries process deliveries.page', {}, () => {
          log.info('job started');
          return Promise.resolve();
        }),
      );
      const job = exporter.getFinishedSpans().find((s) => s.name.startsWith('deliveries'));
      expect(job?.spanContext().traceId).toBe(producer.spanContext().traceId);
      expect(job?.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
      expect(lines[0]).toMatchObject({
        trace_id: producer.spanContext().traceId,
        span_id: job?.spanContext().spanId,
      });
    });

    it('records a failed job as an error span and still rethrows', async () => {
      exporter.reset();
      await expect(
        inJobSpan(undefined, 'runs process runs.fanout', {}, () =>
          Promise.reject(new Error('database down')),
        ),
      ).rejects.toThrow('database down');
      const [span] = exporter.getFinishedSpans();
      expect(span?.status).toMatchObject({ code: 2, message: 'database down' });
    });

    it('does not mark a job moved to later (BullMQ DelayedError) as failed', async () => {
      exporter.reset();
      const moved = Object.assign(new Error('deferred'), { name: 'DelayedError' });
      await expect(
        inJobSpan(undefined, 'deliveries process deliveries.send', {}, () => Promise.reject(moved)),
      ).rejects.toBe(moved);
      const [span] = exporter.getFinishedSpans();
      expect(span?.status.code).toBe(0);
    });
  });
});
