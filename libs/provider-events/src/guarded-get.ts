import { OutboundAddressError, type OutboundGuard, type ResolvedAddress } from '@herald/channels';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';

export class GuardedGetError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GuardedGetError';
  }
}

/**
 * GET a URL through the OutboundGuard: the host is vetted once and the connection pinned to the
 * vetted address (no second resolution, no rebinding), redirects are not followed, the answer is
 * bounded in time and size. Node's http client rather than fetch: fetch cannot pin an address.
 */
export async function guardedGet(
  guard: OutboundGuard,
  url: URL,
  options: { timeoutMs: number; maxBytes: number; userAgent: string },
): Promise<{ status: number; body: string }> {
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new GuardedGetError(`${url.protocol} is not http(s)`);
  let target: ResolvedAddress;
  try {
    [target] = await guard.vet(url.hostname);
  } catch (error) {
    if (error instanceof OutboundAddressError) throw new GuardedGetError(error.message, { cause: error });
    throw error;
  }
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
    headers: { 'user-agent': options.userAgent, accept: '*/*' },
    lookup: pinned,
    agent: false,
    signal: AbortSignal.timeout(options.timeoutMs),
    ...(https && isIP(host) === 0 ? { servername: host } : {}),
  };
  return new Promise((resolve, reject) => {
    const fail = (error: unknown) =>
      reject(
        error instanceof GuardedGetError
          ? error
          : new GuardedGetError(`GET ${url.origin} failed: ${(error as Error).message}`, { cause: error }),
      );
    const req = (https ? httpsRequest : httpRequest)(requestOptions, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          req.destroy(new GuardedGetError(`GET ${url.origin} answered more than ${options.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end();
  });
}
