import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { traceHeaders } from '@herald/telemetry';
import type { Clock } from '@herald/time';
import type { Channel, OutboundMessage, SendOptions, SendResult } from './channel';
import { PermanentChannelError, TransientChannelError } from './channel-errors';
import { parseAccountConfig, webhookAccountConfigSchema, type WebhookAccountConfig } from './config-schemas';
import { vetDestination } from './destination';
import { deliveryKeyDigest } from './message-id';
import type { OutboundGuard, ResolvedAddress } from './outbound-guard';
import { signWebhook } from './webhook-signature';

export interface WebhookChannelOptions {
  /** Vets the destination; shared by every channel. */
  readonly guard: OutboundGuard;
  /** Whole-call budget: connect, send, answer. */
  readonly timeoutMs: number;
  readonly userAgent: string;
  /** Signs with this clock's time. */
  readonly clock: Clock;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs the delivery as signed JSON to the account's URL (DESIGN §6). SSRF guard: the URL must
 * be http(s); its hostname passes the shared OutboundGuard (resolved once, refused if any
 * address is not public unless private networks are allowed) and the connection is pinned to
 * the checked address, so a DNS answer that changes between check and connect (rebinding)
 * cannot redirect it. Redirects are never followed.
 */
export class WebhookChannel implements Channel {
  readonly name = 'webhook' as const;
  /**
   * Keep-alive pools per destination and vetted address: a burst of deliveries to one endpoint
   * reuses connections instead of paying a TCP (and TLS) handshake per call. Keyed by the pinned
   * address too, so a DNS change gets a fresh pool (and a fresh SSRF check).
   */
  private readonly agents = new Map<string, HttpAgent>();
  /**
   * Each account's config, checked and its URL parsed once per config object (the account
   * cache hands the same one to every send until the account changes), not once per send.
   */
  private readonly configs = new WeakMap<object, { config: WebhookAccountConfig; url: URL }>();

  constructor(private readonly options: WebhookChannelOptions) {}

  async send(message: OutboundMessage, { idempotencyKey, account }: SendOptions): Promise<SendResult> {
    const { config, url } = this.configOf(account.config);
    const target = await this.destination(url);
    const body = JSON.stringify({
      delivery_id: message.deliveryId,
      idempotency_key: idempotencyKey,
      campaign_id: message.campaignId,
      run_id: message.runId,
      contact: {
        id: message.contact.id,
        email: message.contact.email,
        first_name: message.contact.firstName,
        last_name: message.contact.lastName,
        external_ref: message.contact.externalRef,
      },
      subject: message.subject,
      body: message.body,
      html: message.html ?? null,
      headers: message.headers ?? {},
    });
    const timestamp = Math.floor(this.options.clock.nowMs() / 1000);
    const response = await this.post(url, target, body, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': this.options.userAgent,
      'idempotency-key': idempotencyKey,
      'x-herald-signature': signWebhook(config.secret, body, timestamp),
      // The receiver can continue the trace (empty when tracing is off).
      ...traceHeaders(),
    });
    return this.interpret(response, idempotencyKey);
  }

  private configOf(raw: unknown): { config: WebhookAccountConfig; url: URL } {
    const cached = typeof raw === 'object' && raw !== null ? this.configs.get(raw) : undefined;
    if (cached) return cached;
    const config = parseAccountConfig(webhookAccountConfigSchema, 'webhook', raw);
    const parsed = { config, url: new URL(config.url) };
    if (typeof raw === 'object' && raw !== null) this.configs.set(raw, parsed);
    return parsed;
  }

  /** Resolves and vets the destination before any connection is made. */
  private async destination(url: URL): Promise<ResolvedAddress> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new PermanentChannelError(`webhook URL scheme ${url.protocol} is not allowed`, 'invalid_config');
    }
    const [first] = await vetDestination(this.options.guard, 'webhook', url.hostname);
    return first;
  }

  async close(): Promise<void> {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
    return Promise.resolve();
  }

  private agentFor(https: boolean, host: string, port: string | number, target: ResolvedAddress): HttpAgent {
    const key = `${https ? 'https' : 'http'}://${host}:${port}@${target.address}`;
    let agent = this.agents.get(key);
    if (!agent) {
      const options = {
        keepAlive: true,
        maxSockets: 128,
        // As many idle as in use: a batch of sends reuses them all instead of reconnecting most each time.
        maxFreeSockets: 128,
        timeout: this.options.timeoutMs,
      };
      agent = https ? new HttpsAgent(options) : new HttpAgent(options);
      if (this.agents.size >= MAX_AGENTS) {
        const [oldestKey, oldest] = this.agents.entries().next().value as [string, HttpAgent];
        oldest.destroy();
        this.agents.delete(oldestKey);
      }
      this.agents.set(key, agent);
    }
    return agent;
  }

  private post(
    url: URL,
    target: ResolvedAddress,
    body: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
    // Pin the connection to the address that was vetted: never resolve the name again.
    const pinned: LookupFunction = (_hostname, options, callback) => {
      if (options.all) callback(null, [{ address: target.address, family: target.family }]);
      else callback(null, target.address, target.family);
    };
    const https = url.protocol === 'https:';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const options: RequestOptions & { servername?: string } = {
      method: 'POST',
      host,
      port: destinationPort(url, https),
      path: `${url.pathname}${url.search}`,
      headers,
      lookup: pinned,
      agent: this.agentFor(https, host, destinationPort(url, https), target),
      // TLS still verifies the certificate against the hostname, not the pinned address.
      ...(https && isIP(host) === 0 ? { servername: host } : {}),
    };
    return new Promise((resolve, reject) => {
      // The whole call's budget is one plain timer: an AbortSignal per request cost a timer, an
      // event target and listeners on the request and its socket for the same effect.
      const timer = setTimeout(
        () => req.destroy(timeoutError(this.options.timeoutMs)),
        this.options.timeoutMs,
      );
      const fail = (error: unknown) => {
        clearTimeout(timer);
        reject(networkError(error, this.options.timeoutMs));
      };
      const req = (https ? httpsRequest : httpRequest)(options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', fail);
      });
      req.on('error', fail);
      req.end(body);
    });
  }

  private interpret(
    response: { status: number; headers: IncomingMessage['headers']; body: string },
    idempotencyKey: string,
  ): SendResult {
    const { status } = response;
    if (status >= 200 && status < 300) {
      return {
        providerMessageId: providerId(response.body) ?? `webhook:${deliveryKeyDigest(idempotencyKey)}`,
      };
    }
    const detail = `webhook answered ${status}`;
    if (status === 408 || status === 429 || (status >= 500 && status < 600)) {
      const retryAfterMs = parseRetryAfter(response.headers['retry-after'], this.options.clock.nowMs());
      throw new TransientChannelError(
        detail,
        `http_${status}`,
        retryAfterMs === undefined ? {} : { retryAfterMs },
      );
    }
    if (status >= 300 && status < 400) {
      throw new PermanentChannelError(`${detail}: redirects are not followed`, `http_${status}`);
    }
    throw new PermanentChannelError(detail, `http_${status}`);
  }
}

/** `Retry-After`: delay-seconds or an HTTP-date, as milliseconds from now. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function providerId(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { id?: unknown; message_id?: unknown };
    const id = parsed.message_id ?? parsed.id;
    return typeof id === 'string' && id.length > 0 && id.length <= 256 ? id : undefined;
  } catch {
    return undefined;
  }
}

function networkError(error: unknown, timeoutMs: number): TransientChannelError {
  const e = error as { name?: string; code?: string; message?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'ABORT_ERR') {
    return new TransientChannelError(`webhook timed out after ${timeoutMs} ms`, 'timeout', { cause: error });
  }
  return new TransientChannelError(
    `webhook request failed: ${e.message ?? String(error)}`,
    (e.code ?? 'network').toLowerCase(),
    {
      cause: error,
    },
  );
}

const MAX_AGENTS = 1000;

function timeoutError(timeoutMs: number): Error {
  const error = new Error(`no answer within ${timeoutMs} ms`);
  error.name = 'TimeoutError';
  return error;
}

function destinationPort(url: URL, https: boolean): string | number {
  return url.port || (https ? 443 : 80);
}
