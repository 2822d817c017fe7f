import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import type { Channel, OutboundMessage, SendOptions, SendResult } from './channel';
import { PermanentChannelError } from './channel-errors';
import { parseAccountConfig, smtpAccountConfigSchema, type SmtpAccountConfig } from './config-schemas';
import { vetDestination } from './destination';
import { messageIdFor } from './message-id';
import type { OutboundGuard } from './outbound-guard';
import { classifySmtpError, isConnectionFailure } from './smtp-errors';

export interface SmtpChannelOptions {
  /** Vets the account's host; shared by every channel. */
  readonly guard: OutboundGuard;
  /** Connection, greeting and socket timeout (ms). */
  readonly timeoutMs: number;
  /** Pooled connections per sender account. */
  readonly maxConnections?: number;
  /** How long a pool stays pinned to its vetted address before the host is resolved and vetted again. */
  readonly revetAfterMs?: number;
}

type Pool = Transporter<SMTPPool.SentMessageInfo, SMTPPool.Options>;
type Nodemailer = typeof import('nodemailer');

interface PinnedPool {
  readonly fingerprint: string;
  /** The vetted address every connection of this pool goes to. */
  readonly address: string;
  vettedAt: number;
  /** A connection to `address` failed: vet again and prefer another address. */
  failed: boolean;
  readonly pool: Pool;
}

const DEFAULT_MAX_CONNECTIONS = 3;
/** As long as nodemailer caches a DNS answer itself. */
const DEFAULT_REVET_AFTER_MS = 5 * 60_000;

/**
 * Email through the sender account's SMTP server (nodemailer). One pooled transport per
 * account, rebuilt when the account's config changes. The Message-ID is derived from the
 * delivery key, so a resend after a crash is recognisable (and deduplicated by many servers).
 *
 * SSRF guard: the account's host passes the shared OutboundGuard and the pool connects to the
 * vetted IP address (nodemailer is given the address, so it never resolves the name; TLS still
 * verifies the certificate against the name). The host is vetted again every `revetAfterMs`
 * and after a connection failure; the pool moves when its address is no longer one the name
 * resolves to, or to another of the name's addresses when a connection to it failed.
 */
export class SmtpChannel implements Channel {
  readonly name = 'smtp' as const;
  /** One send per pooled connection is on the wire; the others wait in nodemailer's queue. */
  readonly maxInFlight: number;
  private readonly pools = new Map<string, PinnedPool>();
  private nodemailer: Promise<Nodemailer> | undefined;

  constructor(private readonly options: SmtpChannelOptions) {
    this.maxInFlight = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  }

  async send(message: OutboundMessage, { idempotencyKey, account }: SendOptions): Promise<SendResult> {
    const config = parseAccountConfig(smtpAccountConfigSchema, 'smtp', account.config);
    const to = message.contact.email;
    if (!to) throw new PermanentChannelError('contact has no email address', 'no_recipient');
    const messageId = messageIdFor(idempotencyKey);
    const pinned = await this.poolFor(account.id, config);
    try {
      const info = await pinned.pool.sendMail({
        from: config.from,
        to,
        subject: message.subject ?? '',
        text: message.body,
        // With both parts nodemailer writes multipart/alternative: text first, HTML preferred.
        ...(message.html !== undefined ? { html: message.html } : {}),
        messageId,
        headers: { ...message.headers, 'X-Herald-Delivery-Id': message.deliveryId },
      });
      return { providerMessageId: info.messageId || messageId };
    } catch (error) {
      const failure = classifySmtpError(error);
      // The server may have moved: the next send resolves and vets the host again.
      if (isConnectionFailure(failure.code)) pinned.failed = true;
      throw failure;
    }
  }

  close(): Promise<void> {
    for (const { pool } of this.pools.values()) pool.close();
    this.pools.clear();
    return Promise.resolve();
  }

  private async poolFor(accountId: string, config: SmtpAccountConfig): Promise<PinnedPool> {
    const fingerprint = createHash('sha256').update(JSON.stringify(config)).digest('hex');
    const revetAfterMs = this.options.revetAfterMs ?? DEFAULT_REVET_AFTER_MS;
    const usable = (p: PinnedPool | undefined): p is PinnedPool =>
      p?.fingerprint === fingerprint && !p.failed;
    const cached = this.pools.get(accountId);
    if (usable(cached) && performance.now() - cached.vettedAt < revetAfterMs) return cached;
    const addresses = await vetDestination(this.options.guard, 'smtp', config.host);
    const { createTransport } = await this.loadNodemailer();
    // Read again after the awaits: a concurrent send may have replaced the pool meanwhile.
    const current = this.pools.get(accountId);
    if (usable(current) && addresses.some((a) => a.address === current.address)) {
      current.vettedAt = performance.now();
      return current;
    }
    current?.pool.close();
    // After a failed connection, another of the name's addresses gets its turn.
    const target = (current?.failed && addresses.find((a) => a.address !== current.address)) || addresses[0];
    const name = config.host.replace(/^\[(.*)\]$/, '$1');
    const pinned: PinnedPool = {
      fingerprint,
      address: target.address,
      vettedAt: performance.now(),
      failed: false,
      pool: createTransport({
        pool: true,
        maxConnections: this.maxInFlight,
        host: target.address,
        port: config.port,
        secure: config.secure,
        requireTLS: config.require_tls ?? false,
        auth: { user: config.username, pass: config.password },
        tls: {
          rejectUnauthorized: config.reject_unauthorized ?? true,
          // SNI and certificate verification against the name, not the pinned address.
          ...(isIP(name) === 0 ? { servername: name } : {}),
        },
        connectionTimeout: this.options.timeoutMs,
        greetingTimeout: this.options.timeoutMs,
        socketTimeout: this.options.timeoutMs,
      }),
    };
    this.pools.set(accountId, pinned);
    return pinned;
  }

  /** Loaded on first use: processes that never send mail do not carry nodemailer (~20 MB). */
  private loadNodemailer(): Promise<Nodemailer> {
    return (this.nodemailer ??= import('nodemailer'));
  }
}
