import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The suffix every fake website lives under: `<slug>.sites.test`. */
export const SITES_SUFFIX = 'sites.test';

export type SiteFailure = 'none' | 'error' | 'hang' | 'huge' | 'redirect_loop';

/** What a fake website is like: derived from its host name alone, so a test can predict it. */
export interface SiteProfile {
  readonly host: string;
  /** http answers with a redirect to https (served with a self-signed certificate). */
  readonly https: boolean;
  /** Time to first byte of the page, ms. */
  readonly ttfbMs: number;
  readonly viewport: boolean;
  readonly title: string;
  readonly description: string | null;
  readonly email: string | null;
  readonly phone: string | null;
  readonly generator: string | null;
  readonly robotsDisallow: boolean;
  readonly failure: SiteFailure;
}

const GENERATORS = [
  null,
  'WordPress 6.5',
  'Wix.com Website Builder',
  'Squarespace',
  null,
  'Joomla! - Open Source Content Management',
];
const HUGE_BYTES = 8 * 1024 * 1024;

/**
 * The profile of a host. A slug's first word can force a trait, so tests name the case they
 * mean (`good-1`, `slow-1`, `plain-1`, `huge-1`, `hang-1`, `broken-1`, `loop-1`, `robots-1`,
 * `bare-1`); any other slug gets traits from a hash of the host, varied as real small-business
 * sites are.
 */
export function siteProfile(hostname: string): SiteProfile {
  const host = hostname.toLowerCase().replace(/:\d+$/, '');
  const slug = host.endsWith(`.${SITES_SUFFIX}`) ? host.slice(0, -SITES_SUFFIX.length - 1) : host;
  const h = createHash('sha256').update(host).digest();
  const kind = slug.split('-')[0] ?? '';
  const name = slug
    .split('-')
    .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : w))
    .join(' ');
  const byHash: SiteProfile = {
    host,
    https: h[1]! % 3 !== 0,
    ttfbMs: h[2]! % 5 === 0 ? 2_200 : 5 + (h[2]! % 40),
    viewport: h[3]! % 3 !== 0,
    title: name,
    description: h[7]! % 4 === 0 ? null : `${name}: local services since ${1950 + (h[8]! % 70)}`,
    email: h[4]! % 2 === 0 ? `hello@${host}` : null,
    phone: h[5]! % 2 === 0 ? `+1 555 ${String(1000 + (h[9]! % 9000))}` : null,
    generator: GENERATORS[h[6]! % GENERATORS.length] ?? null,
    robotsDisallow: h[0]! % 25 === 1,
    failure: h[0]! % 25 === 0 ? 'error' : h[0]! % 50 === 2 ? 'redirect_loop' : 'none',
  };
  const good = {
    ...byHash,
    https: true,
    ttfbMs: 5,
    viewport: true,
    description: `${name}: the best in town`,
    email: `hello@${host}`,
    phone: '+1 555 0100',
    generator: 'WordPress 6.5',
    robotsDisallow: false,
    failure: 'none' as const,
  };
  switch (kind) {
    case 'good':
      return good;
    case 'bare':
      return {
        ...good,
        https: false,
        viewport: false,
        description: null,
        email: null,
        phone: null,
        generator: null,
      };
    case 'plain':
      return { ...good, https: false };
    case 'slow':
      return { ...good, ttfbMs: 2_200 };
    case 'huge':
      return { ...good, failure: 'huge' };
    case 'hang':
      return { ...good, failure: 'hang' };
    case 'broken':
      return { ...good, failure: 'error' };
    case 'loop':
      return { ...good, https: false, failure: 'redirect_loop' };
    case 'robots':
      return { ...good, robotsDisallow: true };
    default:
      return byHash;
  }
}

/** The page a profile serves (without failures). */
export function sitePage(p: SiteProfile): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${p.title}</title>
${p.description ? `<meta name="description" content="${p.description}">` : ''}
${p.viewport ? '<meta name="viewport" content="width=device-width, initial-scale=1">' : ''}
${p.generator ? `<meta name="generator" content="${p.generator}">` : ''}
</head><body><h1>${p.title}</h1><p>Welcome.</p>
${p.email ? `<p>Write to <a href="mailto:${p.email}">${p.email}</a></p>` : ''}
${p.phone ? `<p>Call <a href="tel:${p.phone.replace(/\s/g, '')}">${p.phone}</a></p>` : ''}
</body></html>`;
}

/**
 * Every `<slug>.sites.test` website on one loopback HTTP server, plus one HTTPS server with a
 * self-signed certificate for `*.sites.test` (made with openssl at start). Reach them through
 * OUTBOUND_HOST_OVERRIDES=*.sites.test=127.0.0.1 and the ports here. Counts requests per host
 * and remembers when each arrived, so a test can check the per-domain rate.
 */
export class FakeSites {
  /** Every request: its host, path, arrival and the client's port (one per connection it came on). */
  readonly requests: { host: string; path: string; at: number; clientPort: number }[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly http: Server,
    private readonly tls: TlsServer,
    readonly httpPort: number,
    readonly httpsPort: number,
  ) {
    for (const server of [http, tls]) {
      server.on('connection', (socket: Socket) => {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
      });
    }
  }

  /** Ports default to free ones; `npm run dev` keeps the http one where the demo's websites point. */
  static async start(ports: { http?: number; https?: number } = {}): Promise<FakeSites> {
    const { key, cert } = selfSignedCertificate();
    const holder: { sites?: FakeSites } = {};
    const http = createServer((req, res) => holder.sites?.handle(req, res, false));
    const tls = createTlsServer({ key, cert }, (req, res) => holder.sites?.handle(req, res, true));
    const listen = (server: Server | TlsServer, port = 0) =>
      new Promise<number>((resolve, reject) =>
        server.once('error', reject).listen(port, '127.0.0.1', () => {
          const address = server.address();
          resolve(typeof address === 'object' && address ? address.port : 0);
        }),
      );
    const [httpPort, httpsPort] = await Promise.all([listen(http, ports.http), listen(tls, ports.https)]);
    holder.sites = new FakeSites(http, tls, httpPort, httpsPort);
    return holder.sites;
  }

  /** The URL a directory would list for a slug: plain http, as most listings do. */
  url(slug: string): string {
    return `http://${slug}.${SITES_SUFFIX}:${this.httpPort}/`;
  }

  requestsTo(host: string): { path: string; at: number; clientPort: number }[] {
    return this.requests.filter((r) => r.host === host);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(
      [this.http, this.tls].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
  }

  private handle(req: IncomingMessage, res: ServerResponse, secure: boolean): void {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const path = req.url ?? '/';
    this.requests.push({ host, path, at: Date.now(), clientPort: req.socket.remotePort ?? 0 });
    const p = siteProfile(host);
    if (path === '/robots.txt') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(p.robotsDisallow ? 'User-agent: *\nDisallow: /\n' : 'User-agent: *\nDisallow: /private/\n');
      return;
    }
    if (p.failure === 'redirect_loop') {
      res.writeHead(302, { location: path === '/a' ? '/b' : '/a' });
      res.end();
      return;
    }
    if (p.https && !secure) {
      res.writeHead(301, { location: `https://${host}:${this.httpsPort}${path}` });
      res.end();
      return;
    }
    if (p.failure === 'hang') return; // Never answers: the client's timeout must end it.
    setTimeout(() => {
      if (p.failure === 'error') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      if (p.failure === 'huge') {
        res.write(sitePage(p).replace('</body></html>', ''));
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let sent = 0;
        const more = (): void => {
          while (sent < HUGE_BYTES) {
            sent += chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', more);
              return;
            }
          }
          res.end('</body></html>');
        };
        res.on('error', () => undefined);
        more();
        return;
      }
      res.end(sitePage(p));
    }, p.ttfbMs);
  }
}

let cached: { key: string; cert: string } | undefined;

/** A self-signed certificate for *.sites.test, made once per process with openssl. */
function selfSignedCertificate(): { key: string; cert: string } {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'herald-sites-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '30',
        '-subj',
        `/CN=*.${SITES_SUFFIX}`,
        '-addext',
        `subjectAltName=DNS:*.${SITES_SUFFIX}`,
      ],
      { stdio: 'ignore' },
    );
    cached = {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
