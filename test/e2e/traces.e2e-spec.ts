import {
  callApi,
  createTestDatabase,
  eventually,
  HeraldProcess,
  TEST_ADMIN_KEY,
  testEnvironment,
  testRedisPrefix,
  testRedisUrl,
  WebhookSink,
  type TestDatabase,
  createTenant,
} from '@herald/testing';
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

jest.setTimeout(120_000);

const SECRET = 'traces-e2e-sink-secret-0123456789abcdef';
const SPAN_KIND = { server: 2, client: 3, consumer: 5 } as const;

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: OtlpAttribute[];
      }[];
    }[];
  }[];
}

/** OTLP/JSON ids are hex; accept base64 too (the protobuf-JSON mapping) so the test names the real failure. */
function hex(id: string | undefined): string {
  if (!id) return '';
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

function attributes(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  return Object.fromEntries(
    (list ?? []).map((a) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.boolValue]),
  );
}

/**
 * A collector on loopback: what a Tempo or an OpenTelemetry Collector receives on
 * POST /v1/traces (exporter-trace-otlp-http sends OTLP as JSON), kept as a flat list of spans.
 */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<OtlpReceiver> {
    const holder: { receiver?: OtlpReceiver } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/traces') {
          res.writeHead(404).end();
          return;
        }
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        holder.receiver?.collect(JSON.parse(body.toString('utf8')) as OtlpRequest);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    holder.receiver = new OtlpReceiver(server, `http://127.0.0.1:${port}`);
    return holder.receiver;
  }

  private collect(request: OtlpRequest): void {
    for (const resourceSpans of request.resourceSpans ?? []) {
      const name = attributes(resourceSpans.resource?.attributes)['service.name'];
      const service = typeof name === 'string' ? name : '';
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          this.spans.push({
            service,
            traceId: hex(span.traceId),
            spanId: hex(span.spanId),
            parentSpanId: hex(span.parentSpanId),
            name: span.name,
            kind: span.kind,
            attributes: attributes(span.attributes),
          });
        }
      }
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * One trace from the API request to the provider call, with real api and worker processes
 * exporting to a loopback OTLP receiver: the request's server span, the worker's job spans
 * (the context travels in the job data), the webhook client span, and the webhook's
 * `traceparent` and the worker's log lines all carry the same trace id.
 */
describe('traces (api + worker processes exporting OTLP)', () => {
  let db: TestDatabase;
  let sink: WebhookSink;
  let receiver: OtlpReceiver;
  let api: HeraldProcess;
  let worker: HeraldProcess;

  beforeAll(async () => {
    [db, sink, receiver] = await Promise.all([
      createTestDatabase(),
      WebhookSink.start(SECRET),
      OtlpReceiver.start(),
    ]);
    const env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: testRedisPrefix(),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      API_RATE_LIMIT_PER_SECOND: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    [api, worker] = await Promise.all([
      HeraldProcess.start('api', env),
      // debug: the job started/completed lines, whose trace_id the test checks.
      HeraldProcess.start('worker', { ...env, LOG_LEVEL: 'debug' }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await Promise.all([sink?.stop(), receiver?.stop()]);
    await db?.drop();
  });

  const call = <T>(method: string, path: string, key: string, body?: unknown) =>
    callApi<T>(api.publicUrl, method, path, key, body);

  it('links the POST request, the job spans and the webhook call in one trace, and the logs to it', async () => {
    const tenant = await createTenant(api.publicUrl, TEST_ADMIN_KEY, 'Traced', 'UTC');
    const key = tenant.key;
    const account = await call<{ id: string }>('POST', '/v1/sender-accounts', key, {
      name: 'Loopback sink',
      channel: 'webhook',
      config: { url: sink.url, secret: SECRET },
      time_zone: 'UTC',
    });
    expect(account.status).toBe(201);
    const imported = await call<{ created: number }>('POST', '/v1/contacts/import', key, [
      { email: 'traced@example.test', first_name: 'Ada', tags: ['t'] },
    ]);
    expect(imported.body).toMatchObject({ created: 1 });
    const campaign = await call<{ id: string }>('POST', '/v1/campaigns', key, {
      name: 'Traced launch',
      kind: 'broadcast',
      sender_account_id: account.body.id,
      steps: [{ subject: 'Hello', body: 'Hi {{ first_name }}' }],
      audience: { tags: ['t'] },
    });
    expect(campaign.status).toBe(201);
    const runsPath = `/v1/campaigns/${campaign.body.id}/runs`;
    const started = await call<{ id: string }>('POST', runsPath, key, {});
    expect(started.status).toBe(202);

    await sink.waitForDeliveries(1);
    const [delivery] = [...sink.delivered.values()];
    const traceparent = delivery?.traceparent ?? '';
    const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(traceparent);
    expect(match).not.toBeNull();
    const [, traceId, callerSpanId] = match!;

    // The webhook client span (the request's parent), and its ancestry up to the root.
    const ancestry = await eventually(
      async () => {
        await Promise.resolve();
        const byId = new Map(receiver.spans.filter((s) => s.traceId === traceId).map((s) => [s.spanId, s]));
        const chain: ReceivedSpan[] = [];
        for (let span = byId.get(callerSpanId!); span; span = byId.get(span.parentSpanId)) chain.push(span);
        const root = chain.at(-1);
        return root && root.parentSpanId === '' ? chain : undefined;
      },
      { timeoutMs: 20_000, what: 'the whole trace exported' },
    );
    const [client] = ancestry;
    expect(client).toMatchObject({ service: 'herald-worker', name: 'webhook send', kind: SPAN_KIND.client });
    const jobs = ancestry.filter((s) => s.kind === SPAN_KIND.consumer);
    expect(jobs.map((s) => [s.service, s.name])).toEqual([
      ['herald-worker', 'deliveries process deliveries.page'],
      ['herald-worker', 'runs process runs.fanout'],
    ]);
    const root = ancestry.at(-1)!;
    expect(root).toMatchObject({ service: 'herald-api', kind: SPAN_KIND.server });
    expect(Object.values(root.attributes)).toContain('POST');
    expect(Object.values(root.attributes).some((v) => typeof v === 'string' && v.includes(runsPath))).toBe(
      true,
    );

    // Postgres and Redis calls made for the trace are its children (instrumentation-pg/-ioredis).
    const inTrace = receiver.spans.filter((s) => s.traceId === traceId);
    const system = (s: ReceivedSpan) => s.attributes['db.system.name'] ?? s.attributes['db.system'];
    expect(inTrace.some((s) => s.service === 'herald-api' && system(s) === 'postgresql')).toBe(true);
    expect(inTrace.some((s) => s.service === 'herald-api' && system(s) === 'redis')).toBe(true);
    expect(inTrace.some((s) => s.service === 'herald-worker' && system(s) === 'postgresql')).toBe(true);

    // The worker's log lines for this delivery's jobs carry the trace id (and their own span's id).
    const jobLines = worker.lines.filter((l) => l.msg === 'job started' && l.trace_id === traceId);
    expect(jobLines.map((l) => l.job).sort()).toEqual(['deliveries.page', 'runs.fanout']);
    const jobSpanIds = new Set(jobs.map((s) => s.spanId));
    for (const line of jobLines) expect(jobSpanIds.has(line.span_id as string)).toBe(true);
    // The request id still travels beside it.
    expect(jobLines.every((l) => typeof l.request_id === 'string' && l.request_id.length > 0)).toBe(true);
  });
});
