import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

const INDUSTRIES = ['plumbing', 'bakery', 'dentistry', 'law', 'accounting', 'fitness', 'florist', 'retail'];

/** What the fake provider knows of a domain or email: derived from a hash of it. */
export function enrichmentRecord(key: string): Record<string, unknown> {
  const h = createHash('sha256').update(key.toLowerCase()).digest();
  return {
    company: {
      domain: key.includes('@') ? key.split('@')[1] : key,
      employees: 1 + ((h[0]! * 256 + h[1]!) % 500),
      industry: INDUSTRIES[h[2]! % INDUSTRIES.length],
      founded: 1950 + (h[3]! % 70),
      revenue_band: ['<1M', '1-10M', '10-50M', '50M+'][h[4]! % 4],
    },
    person: key.includes('@') ? { role: ['owner', 'manager', 'staff'][h[5]! % 3] } : null,
  };
}

/**
 * An enrichment provider on loopback: `GET /v1/lookup?domain=…|email=…` with
 * `authorization: Bearer <key>` (an http-enrichment source account's default auth). A wrong key gets 401; a key whose first word is `fail` gets 503; a
 * lookup of a name starting `fail` gets 500 (the occasional failure); `unknown…` gets 404.
 * Counts the lookups it answered.
 */
export class FakeEnrichment {
  readonly lookups: { key: string; status: number }[] = [];
  /** Keys a test wants to fail (500), whatever their name. */
  readonly failing = new Set<string>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly apiKey: string,
  ) {}

  static async start(apiKey = 'enrich-test-key', port = 0): Promise<FakeEnrichment> {
    const holder: { api?: FakeEnrichment } = {};
    const server = createServer((req, res) => holder.api?.handle(req, res));
    await new Promise<void>((resolve, reject) =>
      server.once('error', reject).listen(port, '127.0.0.1', resolve),
    );
    const address = server.address();
    holder.api = new FakeEnrichment(
      server,
      typeof address === 'object' && address ? address.port : 0,
      apiKey,
    );
    return holder.api;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/v1/lookup`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const key = url.searchParams.get('domain') ?? url.searchParams.get('email') ?? '';
    const answer = (status: number, body: unknown) => {
      this.lookups.push({ key, status });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) return answer(401, { error: 'bad api key' });
    if (url.pathname !== '/v1/lookup' || key === '') return answer(400, { error: 'domain or email' });
    if (key.startsWith('fail') || this.failing.has(key)) return answer(500, { error: 'upstream exploded' });
    if (key.startsWith('unknown')) return answer(404, { error: 'not found' });
    answer(200, enrichmentRecord(key));
  }
}
