import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateBusinesses, type FakeBusiness } from './businesses';

export interface FakeDirectoryOptions {
  seed?: number;
  /** Businesses in the directory (default 2000). */
  count?: number;
  /** The bearer token the search API requires. */
  apiKey?: string;
  /** Port of the business websites (`http://<slug>.sites.test:<sitesPort>/`), served by qualifying's fake sites. */
  sitesPort?: number;
  /** Base URL of the profile site, for each business's `profile_url` (omitted: none). */
  profilesBaseUrl?: string;
  /** Port on 127.0.0.1 (default: any free one). */
  port?: number;
  /** Each search answer waits this long (a slow provider, so a test can act mid-run). */
  delayMs?: number;
}

/**
 * A business directory's paged JSON search API on 127.0.0.1, deterministic by seed:
 * `GET /search?category&city&q&limit` with `Authorization: Bearer <apiKey>` (401 otherwise);
 * cursor pagination (`cursor`, answers `next_cursor`) or page pagination (`page`, from 1).
 * Hostile modes, by criteria (`mode=`) or path (`/<mode>/search`): `slow` (never answers),
 * `error` (500), `huge` (an endless body), `loop` (redirects to itself). Every request is
 * recorded, so tests can count what was charged.
 */
export class FakeDirectory {
  readonly requests: { path: string; query: Record<string, string>; authorized: boolean }[] = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly businesses: readonly FakeBusiness[],
    readonly apiKey: string,
  ) {}

  static async start(options: FakeDirectoryOptions = {}): Promise<FakeDirectory> {
    const apiKey = options.apiKey ?? 'fake-directory-key';
    const businesses = generateBusinesses({
      seed: options.seed ?? 1,
      count: options.count ?? 2000,
      sitesPort: options.sitesPort ?? 80,
    });
    const holder: { directory?: FakeDirectory } = {};
    const server = createServer((req, res) => {
      const handle = () => holder.directory?.handle(req, res, options.profilesBaseUrl);
      if (options.delayMs) setTimeout(handle, options.delayMs);
      else handle();
    });
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
    holder.directory = new FakeDirectory(server, (server.address() as AddressInfo).port, businesses, apiKey);
    return holder.directory;
  }

  /** The search URL (a hostile mode as a path prefix). */
  url(mode?: 'slow' | 'error' | 'huge' | 'loop'): string {
    return `http://127.0.0.1:${this.port}${mode ? `/${mode}` : ''}/search`;
  }

  /** Businesses a search with these filters returns, in order. */
  matching(filters: { category?: string; city?: string; q?: string }): FakeBusiness[] {
    const q = filters.q?.toLowerCase();
    return this.businesses.filter(
      (b) =>
        (!filters.category || b.category === filters.category) &&
        (!filters.city || b.city.toLowerCase() === filters.city.toLowerCase()) &&
        (!q || b.name.toLowerCase().includes(q)),
    );
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse, profilesBaseUrl: string | undefined): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams.entries());
    const authorized = req.headers.authorization === `Bearer ${this.apiKey}`;
    this.requests.push({ path: url.pathname, query, authorized });
    const [, pathMode] = /^\/(slow|error|huge|loop)\/search$/.exec(url.pathname) ?? [];
    const mode = pathMode ?? query.mode;
    if (url.pathname !== '/search' && !pathMode) return json(res, 404, { error: 'not found' });
    if (!authorized) return json(res, 401, { error: 'missing or wrong bearer token' });
    if (mode === 'slow') return; // never answers
    if (mode === 'error') return json(res, 500, { error: 'directory is down' });
    if (mode === 'loop') {
      res.writeHead(302, { location: url.pathname + url.search }).end();
      return;
    }
    if (mode === 'huge') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, ' ');
      const pump = () => {
        while (res.write(chunk));
      };
      res.on('drain', pump);
      res.on('close', () => res.off('drain', pump));
      pump();
      return;
    }
    const found = this.matching({ category: query.category, city: query.city, q: query.q });
    const limit = Math.min(Math.max(Number(query.limit ?? 50) || 50, 1), 500);
    const offset = query.page
      ? (Math.max(Number(query.page) || 1, 1) - 1) * limit
      : Number(query.cursor ?? 0) || 0;
    const slice = found.slice(offset, offset + limit);
    const results = slice.map((b) => ({
      id: b.id,
      name: b.name,
      category: b.category,
      website: b.website,
      email: b.email,
      phone: b.phone,
      address: b.address,
      profile_url: profilesBaseUrl ? `${profilesBaseUrl}/businesses/${b.id}` : null,
    }));
    const next = offset + limit < found.length ? String(offset + limit) : null;
    json(res, 200, { results, next_cursor: next, total: found.length });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
