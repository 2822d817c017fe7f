import { verifyWebhookSignature } from '@herald/channels';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** One line of the webhook log: a delivery the sink accepted. */
export interface WebhookLogEntry {
  received_at: string;
  idempotency_key: string;
  delivery_id: string | null;
  campaign_id: string | null;
  run_id: string | null;
  email: string | null;
  subject: string | null;
}

const MAX_BODY = 1024 * 1024;

/**
 * The development webhook receiver, behaving like a careful provider: it verifies
 * `X-Herald-Signature` with the sender account's secret (401 when it does not match or is older
 * than five minutes), requires `Idempotency-Key` and answers a key it already accepted with the
 * first answer again (`Idempotent-Replayed: true`) without counting it twice. Every accepted
 * delivery is one line of `logFile` (ndjson), read back on start so counts survive a restart.
 */
export class DevWebhookSink {
  delivered = 0;
  replays = 0;
  badSignatures = 0;
  firstAt: number | undefined;
  readonly byCampaign = new Map<string, number>();
  readonly byRun = new Map<string, number>();
  /** Per campaign, deliveries by step number, read from a "(n/m)" marker in the subject. */
  readonly stepsByCampaign = new Map<string, Map<number, number>>();
  private readonly keys = new Set<string>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly secret: string,
    readonly logFile: string,
  ) {}

  static async start(options: { port: number; secret: string; logFile: string }): Promise<DevWebhookSink> {
    const holder: { sink?: DevWebhookSink } = {};
    const server = createServer((req, res) => {
      if (!holder.sink) return void res.writeHead(503).end();
      holder.sink.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end('sink error');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', () => resolve());
    });
    const sink = new DevWebhookSink(server, options.port, options.secret, options.logFile);
    sink.load();
    holder.sink = sink;
    return sink;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/herald`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private load(): void {
    if (!existsSync(this.logFile)) return;
    for (const line of readFileSync(this.logFile, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        this.count(JSON.parse(line) as WebhookLogEntry);
      } catch {
        // a line cut short by a crash
      }
    }
  }

  private count(entry: WebhookLogEntry): void {
    this.keys.add(entry.idempotency_key);
    this.delivered += 1;
    if (entry.campaign_id) {
      this.byCampaign.set(entry.campaign_id, (this.byCampaign.get(entry.campaign_id) ?? 0) + 1);
      const step = /\((\d+)\/\d+\)/.exec(entry.subject ?? '')?.[1];
      if (step) {
        const steps = this.stepsByCampaign.get(entry.campaign_id) ?? new Map<number, number>();
        steps.set(Number(step), (steps.get(Number(step)) ?? 0) + 1);
        this.stepsByCampaign.set(entry.campaign_id, steps);
      }
    }
    if (entry.run_id) this.byRun.set(entry.run_id, (this.byRun.get(entry.run_id) ?? 0) + 1);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) {
        res.writeHead(413).end('body too large');
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const raw = Buffer.concat(chunks);
    const signature = req.headers['x-herald-signature'];
    if (typeof signature !== 'string' || !verifyWebhookSignature(this.secret, signature, raw, 300)) {
      this.badSignatures += 1;
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad signature"}');
      return;
    }
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key.length === 0) {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"missing Idempotency-Key"}');
      return;
    }
    const answer = JSON.stringify({ id: `dev-${key}` });
    if (this.keys.has(key)) {
      this.replays += 1;
      res.writeHead(200, { 'content-type': 'application/json', 'idempotent-replayed': 'true' }).end(answer);
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"body is not JSON"}');
      return;
    }
    const contact = (body.contact ?? {}) as Record<string, unknown>;
    const text = (value: unknown) => (typeof value === 'string' ? value : null);
    const entry: WebhookLogEntry = {
      received_at: new Date().toISOString(),
      idempotency_key: key,
      delivery_id: text(body.delivery_id),
      campaign_id: text(body.campaign_id),
      run_id: text(body.run_id),
      email: text(contact.email),
      subject: text(body.subject),
    };
    appendFileSync(this.logFile, `${JSON.stringify(entry)}\n`);
    this.count(entry);
    this.firstAt ??= Date.now();
    res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
  }
}
