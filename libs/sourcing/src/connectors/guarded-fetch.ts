import { request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { OutboundAddressError, type OutboundGuard, type ResolvedAddress } from '@herald/channels';

/** Why a fetch produced no usable answer; `transient` ones are worth a retry (and count against the breaker). */
export type FetchFailure =
  | 'address_refused'
  | 'dns'
  | 'timeout'
  | 'connection'
  | 'too_large'
  | 'too_many_redirects'
  | 'bad_url'
  | 'http';

const TRANSIENT: ReadonlySet<FetchFailure> = new Set(['dns', 'timeout', 'connection']);

export class SourceFetchError extends Error {
  constructor(
    readonly failure: FetchFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'SourceFetchError';
  }

  /** Timeouts, refused connections, 5xx and 429: the provider may answer later. */
  get transient(): boolean {
    return (
      TRANSIENT.has(this.failure) ||
      (this.failure === 'http' && this.status !== undefined && (this.status === 429 || this.status >= 500))
    );
  }
}

export interface GuardedFetchOptions {
  readonly guard: OutboundGuard;
  /** The whole exchange, redirects included. */
  readonly timeoutMs: number;
  /** The body is cut off (and the fetch fails) past this many bytes. */
  readonly maxBytes: number;
  readonly maxRedirects: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface FetchedPage {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Where the answer came from, after redirects. */
  readonly url: string;
  readonly redirects: number;
}

/**
 * A GET to a tenant-chosen URL through the channels' OutboundGuard: every hop's host is vetted
 * (private addresses refused unless allowed) and the connection pinned to the vetted address,
 * redirects are followed by hand up to a bound (each hop vetted again), the body is capped and
 * the whole exchange has one deadline. Node's http is used directly, as the webhook channel
 * does, because it lets the connection be pinned to the vetted address.
 */
export async function guardedGet(url: string, options: GuardedFetchOptions): Promise<FetchedPage> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let current = parseUrl(url);
  for (let redirects = 0; ; redirects++) {
    const target = await vet(options.guard, current.hostname);
    const answer = await get(current, target, options, signal);
    const location = answer.headers.location;
    if (answer.status >= 300 && answer.status < 400 && location) {
      if (redirects >= options.maxRedirects)
        throw new SourceFetchError(
          'too_many_redirects',
          `more than ${options.maxRedirects} redirects from ${url}`,
        );
      current = parseUrl(new URL(location, current).toString());
      continue;
    }
    return { ...answer, url: current.toString(), redirects };
  }
}

function parseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SourceFetchError('bad_url', `not a URL: ${value.slice(0, 200)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new SourceFetchError('bad_url', `scheme ${url.protocol} is not allowed (http and https only)`);
  if (url.username || url.password)
    throw new SourceFetchError('bad_url', 'URLs with credentials are refused');
  return url;
}

async function vet(guard: OutboundGuard, host: string): Promise<ResolvedAddress> {
  try {
    const [first] = await guard.vet(host);
    return first;
  } catch (error) {
    if (error instanceof OutboundAddressError) throw new SourceFetchError(error.reason, error.message);
    throw error;
  }
}

function get(
  url: URL,
  target: ResolvedAddress,
  options: GuardedFetchOptions,
  signal: AbortSignal,
): Promise<Omit<FetchedPage, 'url' | 'redirects'>> {
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const https = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const requestOptions: RequestOptions & { servername?: string } = {
    method: 'GET',
    host,
    port: url.port || (https ? 443 : 80),
    path: `${url.pathname}${url.search}`,
    headers: { accept: '*/*', ...options.headers, host: url.host },
    lookup: pinned,
    signal,
    agent: false,
    ...(https && isIP(host) === 0 ? { servername: host } : {}),
  };
  return new Promise((resolve, reject) => {
    const fail = (error: unknown) => reject(networkError(error, url, options.timeoutMs, signal));
    const req = (https ? httpsRequest : httpRequest)(requestOptions, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        req.destroy();
        reject(tooLarge(url, options.maxBytes));
        return;
      }
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          req.destroy();
          reject(tooLarge(url, options.maxBytes));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', fail);
      res.on('aborted', () => fail(new Error('response aborted')));
    });
    req.on('error', fail);
    req.end();
  });
}

function tooLarge(url: URL, maxBytes: number): SourceFetchError {
  return new SourceFetchError('too_large', `${url.host} answered more than ${maxBytes} bytes`);
}

function networkError(error: unknown, url: URL, timeoutMs: number, signal: AbortSignal): SourceFetchError {
  if (error instanceof SourceFetchError) return error;
  if (signal.aborted)
    return new SourceFetchError('timeout', `${url.host} did not answer within ${timeoutMs} ms`);
  const code = (error as { code?: unknown }).code;
  const why = typeof code === 'string' && /^[A-Z_]{1,32}$/.test(code) ? code : 'connection failed';
  return new SourceFetchError('connection', `${url.host}: ${why}`);
}
