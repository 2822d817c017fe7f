import { createClient, createConfig, type CallResult, type Client } from '@herald/api-client';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline, Transform, type Readable } from 'node:stream';
import { CliError, EXIT, exitCodeForStatus, type FieldError } from './exit-codes';

/** An answer of the API that is not a success, as problem+json described it. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    message: string,
    fieldErrors: readonly FieldError[],
    /** From `Retry-After` (429, 503), in ms. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(exitCodeForStatus(status), message, fieldErrors);
    this.name = 'ApiError';
  }
}

/** Time to open a connection: an API that does not answer is reported quickly. */
const CONNECT_TIMEOUT_MS = 5000;
/** Longest silence on an open connection (an import is processed as it streams: this bounds only stalls). */
const IDLE_TIMEOUT_MS = 60_000;

interface Body {
  data: string | Readable;
  type: string;
  length?: number;
  /** Bytes of a streamed body handed to the connection so far. */
  onProgress?: (sentBytes: number) => void;
}

/**
 * The Herald HTTP API with one key. Commands call the API through the generated SDK
 * (@herald/api-client) on `sdk`, whose fetch is this transport; only what the SDK cannot express
 * uses the transport directly: a file streamed as the import body with progress (`upload`) and
 * a process's `/ready` (`probe`, not an API route). Built on node:http rather than fetch for one
 * reason: a connect timeout of a few seconds (fetch waits its own ten), so a wrong URL fails fast.
 */
export class ApiClient {
  private readonly base: URL;
  private sdkClient: Client | undefined;

  /** Without a key, requests go unauthenticated (`/ready`). */
  constructor(
    baseUrl: string,
    private readonly key: string | undefined,
  ) {
    this.base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  }

  /** The generated SDK's client, sending over this transport (its timeouts, user agent and key). */
  get sdk(): Client {
    this.sdkClient ??= createClient(
      createConfig({
        baseUrl: this.base.href.replace(/\/$/, ''),
        fetch: (input, init) => this.fetch(input, init),
      }),
    );
    return this.sdkClient;
  }

  /** Streams `data` as the request body (never buffered whole). */
  upload<T>(path: string, body: Body): Promise<T> {
    return this.send<T>('POST', path, body);
  }

  /** A GET whose JSON body matters whatever the status (`/ready` answers 503 with its report). */
  async probe<T>(path: string): Promise<{ status: number; body: T }> {
    const { res, text } = await this.call('GET', path);
    try {
      return { status: res.statusCode ?? 0, body: JSON.parse(text) as T };
    } catch {
      throw problemError(res.statusCode ?? 0, res.headers, text);
    }
  }

  /** fetch for the SDK: the request over node:http, the answer back as a Response. */
  private async fetch(input: Request | string | URL, init?: RequestInit): Promise<Response> {
    const request = new Request(input, init);
    const path = request.url.startsWith(this.base.href)
      ? request.url.slice(this.base.href.length)
      : request.url;
    const data = request.body ? await request.text() : undefined;
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      if (name !== 'content-type') headers[name] = value;
    });
    const type = request.headers.get('content-type') ?? 'application/json';
    const { res, text } = await this.call(
      request.method,
      path,
      data === undefined ? undefined : { data, type },
      headers,
    );
    const answer = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined) answer.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const status = res.statusCode ?? 502;
    return new Response(status === 204 || status === 304 ? null : text, { status, headers: answer });
  }

  private async send<T>(
    method: string,
    path: string,
    body?: Body,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const { res, text } = await this.call(method, path, body, headers);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : undefined) as T;
    throw problemError(status, res.headers, text);
  }

  private async call(
    method: string,
    path: string,
    body?: Body,
    headers: Record<string, string> = {},
  ): Promise<{ res: IncomingMessage; text: string }> {
    const url = new URL(path.replace(/^\//, ''), this.base);
    const res = await this.exchange(method, url, body, headers);
    return { res, text: await readText(res) };
  }

  private exchange(
    method: string,
    url: URL,
    body: Body | undefined,
    extra: Record<string, string>,
  ): Promise<IncomingMessage> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'herald-cli',
      ...(this.key ? { authorization: `Bearer ${this.key}` } : {}),
      ...extra,
    };
    if (body) {
      headers['content-type'] = body.type;
      const length = typeof body.data === 'string' ? Buffer.byteLength(body.data) : body.length;
      if (length !== undefined) headers['content-length'] = String(length);
    }
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const fail = (error: Error) => reject(unreachable(url, error));
      const req = request(url, { method, headers }, resolve);
      req.on('error', fail);
      req.setTimeout(IDLE_TIMEOUT_MS, () =>
        req.destroy(new Error(`no answer within ${IDLE_TIMEOUT_MS / 1000} s`)),
      );
      const connected = new Promise<void>((resolveConnected) =>
        req.on('socket', (socket) => {
          if (!socket.connecting) return resolveConnected();
          const timer = setTimeout(
            () => req.destroy(new Error(`no connection within ${CONNECT_TIMEOUT_MS / 1000} s`)),
            CONNECT_TIMEOUT_MS,
          );
          socket.once('connect', () => {
            clearTimeout(timer);
            resolveConnected();
          });
          socket.once('close', () => clearTimeout(timer));
        }),
      );
      if (!body) req.end();
      else if (typeof body.data === 'string') req.end(body.data);
      else {
        const stream = body.data;
        // A file that fails mid-way aborts the request; the error is the file's, not the network's.
        stream.once('error', (error) => {
          reject(error);
          req.destroy();
        });
        let sent = 0;
        const metered = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            sent += chunk.length;
            body.onProgress?.(sent);
            done(null, chunk);
          },
        });
        // Read only once connected, so the progress is what the API is receiving.
        void connected.then(() => pipeline(stream, metered, req, () => undefined));
      }
    });
  }
}

async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function unreachable(url: URL, error: Error): CliError {
  const code = (error as NodeJS.ErrnoException).code;
  return new CliError(EXIT.unreachable, `cannot reach the API at ${url.origin}: ${code ?? error.message}`);
}

/** An SDK call's data, or the ApiError (exit code, field errors, Retry-After) its answer describes. */
export async function answer<T>(call: Promise<CallResult<T>>): Promise<T> {
  const result = await call;
  // No response: the transport failed (unreachable, timed out); its CliError says how.
  if (!result.response) throw result.error instanceof Error ? result.error : new Error(String(result.error));
  if (result.response.ok) return result.data as T;
  const headers = Object.fromEntries(result.response.headers) as IncomingHttpHeaders;
  const text = typeof result.error === 'string' ? result.error : JSON.stringify(result.error ?? null);
  throw problemError(result.response.status, headers, text);
}

/** problem+json (RFC 9457) → one line `title: detail`, the field errors, and the exit code. */
export function problemError(status: number, headers: IncomingHttpHeaders, text: string): ApiError {
  let problem: { title?: unknown; detail?: unknown; errors?: unknown } = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') problem = parsed;
  } catch {
    // not JSON (a proxy's error page): the status says enough
  }
  const title = typeof problem.title === 'string' ? problem.title : `HTTP ${status}`;
  const detail = typeof problem.detail === 'string' && problem.detail !== title ? `: ${problem.detail}` : '';
  const errors = Array.isArray(problem.errors)
    ? (problem.errors as unknown[]).filter(isFieldError).map((e) => ({ field: e.field, message: e.message }))
    : [];
  const retryAfter = Number(headers['retry-after']);
  return new ApiError(
    status,
    `${title}${detail}`,
    errors,
    Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined,
  );
}

function isFieldError(value: unknown): value is FieldError {
  const e = value as Partial<FieldError> | null;
  return typeof e?.field === 'string' && typeof e.message === 'string';
}
