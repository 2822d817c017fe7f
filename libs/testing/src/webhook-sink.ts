import { verifyWebhookSignature } from '@herald/channels';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface SinkDelivery {
  key: string;
  body: Record<string, unknown>;
  receivedAt: number;
  /** The W3C `traceparent` header the request carried, if any. */
  traceparent?: string;
}

export type SinkBehaviour =
  | { mode: 'accept' }
  /** Answer `status` (with an optional Retry-After, seconds) to every request. */
  | { mode: 'fail'; status: number; retryAfterSeconds?: number };

/**
 * A webhook provider on loopback, as a real one behaves: it checks the signature, and honours
 * `Idempotency-Key` — a key it already accepted gets the first answer again (marked
 * `Idempotent-Replayed: true`) and is not delivered a second time. It counts what a test needs
 * to hold Herald to its promises: deliveries per key, replays, failures answered, and the
 * requests that arrived while it was failing (breaker probes).
 */
export class WebhookSink {
  readonly delivered = new Map<string, SinkDelivery>();
  /** Successful answers per key, replays included: more than one means a replay reached us. */
  readonly acceptedAnswers = new Map<string, number>();
  replays = 0;
  badSignatures = 0;
  failuresAnswered = 0;
  /** Arrival times of the requests answered with a failure. */
  readonly failedAt: number[] = [];
  behaviour: SinkBehaviour = { mode: 'accept' };
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly secret: string,
  ) {}

  static async start(secret: string): Promise<WebhookSink> {
    const holder: { sink?: WebhookSink } = {};
    const server = createServer((req, res) => void holder.sink?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    holder.sink = new WebhookSink(server, port, secret);
    return holder.sink;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/herald`;
  }

  /** Resolves once `count` distinct keys have been delivered. */
  waitForDeliveries(count: number): Promise<void> {
    if (this.delivered.size >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const signature = req.headers['x-herald-signature'];
    const key = req.headers['idempotency-key'];
    if (typeof signature !== 'string' || !verifyWebhookSignature(this.secret, signature, raw, 300)) {
      this.badSignatures += 1;
      res.writeHead(401).end('bad signature');
      return;
    }
    if (typeof key !== 'string' || key.length === 0) {
      res.writeHead(400).end('missing Idempotency-Key');
      return;
    }
    if (this.delivered.has(key)) {
      this.replays += 1;
      this.acceptedAnswers.set(key, (this.acceptedAnswers.get(key) ?? 0) + 1);
      res
        .writeHead(200, { 'content-type': 'application/json', 'idempotent-replayed': 'true' })
        .end(JSON.stringify({ id: `msg-${key}` }));
      return;
    }
    const behaviour = this.behaviour;
    if (behaviour.mode === 'fail') {
      this.failuresAnswered += 1;
      this.failedAt.push(Date.now());
      const headers: Record<string, string> =
        behaviour.retryAfterSeconds !== undefined
          ? { 'retry-after': String(behaviour.retryAfterSeconds) }
          : {};
      res.writeHead(behaviour.status, headers).end('provider trouble');
      return;
    }
    this.delivered.set(key, {
      key,
      body: JSON.parse(raw) as Record<string, unknown>,
      receivedAt: Date.now(),
      ...(typeof req.headers.traceparent === 'string' ? { traceparent: req.headers.traceparent } : {}),
    });
    this.acceptedAnswers.set(key, (this.acceptedAnswers.get(key) ?? 0) + 1);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `msg-${key}` }));
    for (const waiter of [...this.waiters]) {
      if (this.delivered.size >= waiter.count) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }
}
