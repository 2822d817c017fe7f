import type { LookupFunction } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { OutboundAddressError, type OutboundGuard } from '@herald/channels';
import { Agent, buildConnector, request } from 'undici';

export interface FetchLimits {
  /** The whole fetch, every hop, connect to last byte. */
  readonly timeoutMs: number;
  /** Body bytes kept at most; the rest is not read. */
  readonly maxBytes: number;
  readonly maxRedirects: number;
  readonly userAgent: string;
  /** Sent on every hop besides the user agent (an API's auth header, an accept header). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Why a fetch gave no page. */
export type FetchFailure =
  'bad_url' | 'dns' | 'address_refused' | 'connect_failed' | 'timeout' | 'too_many_redirects';

export interface FetchedPage {
  readonly finalUrl: string;
  readonly status: number;
  readonly redirects: number;
  /** The final hop was https; certValid says whether its certificate verified for the name. */
  readonly https: boolean;
  readonly certValid: boolean | null;
  readonly certError: string | null;
  /** From the final hop's request to its headers. */
  readonly ttfbMs: number;
  /** From the first request to the last byte read. */
  readonly totalMs: number;
  /** Body bytes received (up to the cap, then the page is truncated). */
  readonly bytes: number;
  readonly truncated: boolean;
  readonly contentType: string | null;
  readonly body: string;
}

export class FetchError extends Error {
  constructor(
    readonly failure: FetchFailure,
    message: string,
    readonly redirects = 0,
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

/**
 * GETs URLs as a browser would land on them, hostile pages in mind: each hop's host passes the
 * OutboundGuard and connections are pinned to the vetted address (no second DNS answer);
 * redirects are followed by hand up to a bound (each new host vetted again); one deadline
 * covers all hops; the body is read up to a cap and the rest abandoned. TLS certificates are
 * checked but not enforced, so a self-signed site is still assessed and reported as such.
 *
 * A session keeps its connections alive between fetches, so robots.txt and the page of one site
 * (or the lookups of one provider) share a connection and its TLS handshake, as a browser's
 * would. Every request is vetted first, and a new connection only ever goes to the address the
 * guard answered last for its host. Close it when done.
 */
export class FetchSession {
  private readonly vetted = new Map<string, { address: string; family: number }>();
  private readonly tlsByHost = new Map<string, { authorized: boolean; error: string | undefined }>();
  private readonly agent: Agent;

  constructor(
    private readonly guard: OutboundGuard,
    connectTimeoutMs: number,
  ) {
    const pinned: LookupFunction = (hostname, options, callback) => {
      const target = this.vetted.get(hostname.replace(/^\[|\]$/g, ''));
      if (!target) {
        callback(Object.assign(new Error(`${hostname} was not vetted`), { code: 'ENOTVETTED' }), '', 4);
        return;
      }
      if (options.all) callback(null, [{ address: target.address, family: target.family }]);
      else callback(null, target.address, target.family);
    };
    const connect = buildConnector({ rejectUnauthorized: false, lookup: pinned, timeout: connectTimeoutMs });
    this.agent = new Agent({
      connect: (options, callback) =>
        connect(options, (error, socket) => {
          if (socket && 'authorized' in socket) {
            const secure: TLSSocket = socket;
            this.tlsByHost.set(options.hostname, {
              authorized: secure.authorized,
              error: secure.authorizationError ? String(secure.authorizationError) : undefined,
            });
          }
          // buildConnector's callback is overloaded on error; pass both through unchanged.
          (callback as (e: Error | null, s: typeof socket) => void)(error, socket);
        }),
    });
  }

  async fetch(url: string, limits: FetchLimits): Promise<FetchedPage> {
    const started = performance.now();
    const deadline = AbortSignal.timeout(limits.timeoutMs);
    let current = parseHttpUrl(url);
    for (let redirects = 0; ; redirects++) {
      const hop = await this.hop(current, limits, deadline, started);
      if (hop.location === undefined) return { ...hop.page, redirects };
      if (redirects >= limits.maxRedirects)
        throw new FetchError('too_many_redirects', `more than ${limits.maxRedirects} redirects`, redirects);
      current = parseHttpUrl(new URL(hop.location, current).toString());
    }
  }

  async close(): Promise<void> {
    await this.agent.destroy().catch(() => undefined);
  }

  private async hop(url: URL, limits: FetchLimits, deadline: AbortSignal, started: number): Promise<Hop> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    try {
      const [target] = await this.guard.vet(host);
      this.vetted.set(host, { address: target.address, family: target.family });
    } catch (error) {
      if (error instanceof OutboundAddressError) throw new FetchError(error.reason, error.message);
      throw error;
    }
    const hopStarted = performance.now();
    try {
      const response = await request(url, {
        method: 'GET',
        dispatcher: this.agent,
        signal: deadline,
        headers: {
          'user-agent': limits.userAgent,
          accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.5',
          ...limits.headers,
        },
      });
      const ttfbMs = performance.now() - hopStarted;
      const location = header(response.headers.location);
      if (response.statusCode >= 300 && response.statusCode < 400 && location) {
        discard(response.body);
        return { location };
      }
      const { body, bytes, truncated } = await readCapped(response.body, limits.maxBytes);
      const https = url.protocol === 'https:';
      const tls = this.tlsByHost.get(url.hostname);
      return {
        page: {
          finalUrl: url.toString(),
          status: response.statusCode,
          https,
          certValid: https ? (tls?.authorized ?? false) : null,
          certError: https && !tls?.authorized ? (tls?.error ?? 'unverified') : null,
          ttfbMs: Math.round(ttfbMs),
          totalMs: Math.round(performance.now() - started),
          bytes,
          truncated,
          contentType: header(response.headers['content-type']) ?? null,
          body,
        },
      };
    } catch (error) {
      if (error instanceof FetchError) throw error;
      throw asFetchError(error, deadline, limits.timeoutMs);
    }
  }
}

function parseHttpUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new FetchError('bad_url', 'not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new FetchError('bad_url', `scheme ${url.protocol} is not fetched`);
  return url;
}

type Hop =
  { location: string; page?: undefined } | { location?: undefined; page: Omit<FetchedPage, 'redirects'> };

type Body = AsyncIterable<Buffer> & { on(event: 'error', listener: () => void): unknown; destroy(): unknown };

/** The body up to `maxBytes`; the rest is abandoned unread. */
async function readCapped(
  stream: Body,
  maxBytes: number,
): Promise<{ body: string; bytes: number; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let truncated = false;
  for await (const chunk of stream) {
    const room = maxBytes - bytes;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      bytes += room;
      truncated = true;
      break;
    }
    chunks.push(chunk);
    bytes += chunk.length;
  }
  if (truncated) discard(stream);
  return { body: Buffer.concat(chunks).toString('utf8'), bytes, truncated };
}

/** Abandons a body we will not read: destroying it emits an abort error nobody else awaits. */
function discard(body: { on(event: 'error', listener: () => void): unknown; destroy(): unknown }): void {
  body.on('error', () => undefined);
  body.destroy();
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function asFetchError(error: unknown, deadline: AbortSignal, timeoutMs: number): FetchError {
  const code = (error as { code?: unknown }).code;
  if (
    deadline.aborted ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  )
    return new FetchError('timeout', `no complete answer within ${timeoutMs} ms`);
  const why = typeof code === 'string' && /^[A-Z_]{1,40}$/.test(code) ? code : 'error';
  return new FetchError('connect_failed', `the site could not be reached (${why})`);
}
