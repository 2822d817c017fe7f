import { createHash } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import type { Channel, OutboundMessage, SendOptions, SendResult } from './channel';
import { PermanentChannelError, TransientChannelError, type ChannelError } from './channel-errors';
import { parseAccountConfig, smtpAccountConfigSchema, type SmtpAccountConfig } from './config-schemas';
import { messageIdFor } from './message-id';

export interface SmtpChannelOptions {
  /** Connection, greeting and socket timeout (ms). */
  readonly timeoutMs: number;
  /** Pooled connections per sender account. */
  readonly maxConnections?: number;
}

type Pool = Transporter<SMTPPool.SentMessageInfo, SMTPPool.Options>;

/** Network-level failures nodemailer reports without an SMTP reply code: all worth a retry. */
const TRANSIENT_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ETLS',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPROTOCOL',
]);

/**
 * Email through the sender account's SMTP server (nodemailer). One pooled transport per
 * account, rebuilt when the account's config changes. The Message-ID is derived from the
 * delivery key, so a resend after a crash is recognisable (and deduplicated by many servers).
 */
export class SmtpChannel implements Channel {
  readonly name = 'smtp' as const;
  private readonly pools = new Map<string, { fingerprint: string; pool: Pool }>();

  constructor(private readonly options: SmtpChannelOptions) {}

  async send(message: OutboundMessage, { idempotencyKey, account }: SendOptions): Promise<SendResult> {
    const config = parseAccountConfig(smtpAccountConfigSchema, 'smtp', account.config);
    const to = message.contact.email;
    if (!to) throw new PermanentChannelError('contact has no email address', 'no_recipient');
    const messageId = messageIdFor(idempotencyKey);
    try {
      const info = await (
        await this.poolFor(account.id, config)
      ).sendMail({
        from: config.from,
        to,
        subject: message.subject ?? '',
        text: message.body,
        messageId,
        headers: { 'X-Herald-Delivery-Id': message.deliveryId },
      });
      return { providerMessageId: info.messageId || messageId };
    } catch (error) {
      throw classifySmtpError(error);
    }
  }

  close(): Promise<void> {
    for (const { pool } of this.pools.values()) pool.close();
    this.pools.clear();
    return Promise.resolve();
  }

  private async poolFor(accountId: string, config: SmtpAccountConfig): Promise<Pool> {
    const fingerprint = createHash('sha256').update(JSON.stringify(config)).digest('hex');
    const cached = this.pools.get(accountId);
    if (cached?.fingerprint === fingerprint) return cached.pool;
    cached?.pool.close();
    // Loaded on first use: processes that never send mail do not carry nodemailer (~20 MB).
    const { createTransport } = await import('nodemailer');
    const pool = createTransport({
      pool: true,
      maxConnections: this.options.maxConnections ?? 3,
      host: config.host,
      port: config.port,
      secure: config.secure,
      requireTLS: config.require_tls ?? false,
      auth: { user: config.username, pass: config.password },
      tls: { rejectUnauthorized: config.reject_unauthorized ?? true, servername: config.host },
      connectionTimeout: this.options.timeoutMs,
      greetingTimeout: this.options.timeoutMs,
      socketTimeout: this.options.timeoutMs,
    });
    this.pools.set(accountId, { fingerprint, pool });
    return pool;
  }
}

/** 4xx replies and connection trouble are transient; 5xx replies are permanent (DESIGN §9). */
export function classifySmtpError(error: unknown): ChannelError {
  const e = (error ?? {}) as { responseCode?: unknown; code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(error);
  const reply = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (reply !== undefined && reply >= 400 && reply < 500) {
    return new TransientChannelError(`smtp ${reply}: ${message}`, `smtp_${reply}`, { cause: error });
  }
  if (reply !== undefined && reply >= 500 && reply < 600) {
    return new PermanentChannelError(`smtp ${reply}: ${message}`, `smtp_${reply}`, { cause: error });
  }
  if (code === 'EENVELOPE' || code === 'EMESSAGE') {
    return new PermanentChannelError(`smtp rejected the message: ${message}`, code.toLowerCase(), {
      cause: error,
    });
  }
  // Connection errors, timeouts and anything unrecognised: a bounded retry is the safe answer.
  return new TransientChannelError(
    `smtp: ${message}`,
    code && TRANSIENT_CODES.has(code) ? code.toLowerCase() : 'smtp_error',
    {
      cause: error,
    },
  );
}
