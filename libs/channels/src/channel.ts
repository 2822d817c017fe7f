/** Delivery channel names: the `channel` of a sender account. Never rename these values. */
export const CHANNEL_NAMES = ['smtp', 'webhook', 'dry-run'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

/**
 * Whether the receiving end drops a second send of the same delivery key: a webhook receiver
 * honours `Idempotency-Key`, a dry run has no effect to repeat; an SMTP server may keep both
 * copies (the Message-ID is the same, but nothing obliges a mailbox to deduplicate). A send
 * whose outcome a crash left unknown may be repeated only where this holds, unless the sender
 * account opts into at-least-once.
 */
export const RECEIVER_DEDUPES_BY_KEY: Record<ChannelName, boolean> = {
  smtp: false,
  webhook: true,
  'dry-run': true,
};

/** What one delivery sends, rendered already (subject and body are final text). */
export interface OutboundMessage {
  readonly deliveryId: string;
  readonly campaignId: string;
  readonly runId: string | null;
  readonly contact: {
    readonly id: string;
    readonly email: string | null;
    readonly firstName: string | null;
    readonly lastName: string | null;
    readonly externalRef: string | null;
  };
  readonly subject: string | null;
  /** The text part. */
  readonly body: string;
  /** The HTML part (email: sent as multipart/alternative with the text). */
  readonly html?: string;
  /** Message headers the channel adds (List-Unsubscribe, List-Unsubscribe-Post). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A sender account as the channel needs it: its id and its *decrypted* config. */
export interface ChannelAccount {
  readonly id: string;
  /** Validated by the channel against its schema (see config-schemas.ts). */
  readonly config: unknown;
}

export interface SendOptions {
  /** The delivery key: what must never be sent twice. Providers see it (Message-ID, Idempotency-Key). */
  readonly idempotencyKey: string;
  readonly account: ChannelAccount;
}

export interface SendResult {
  readonly providerMessageId: string;
}

/**
 * One way to reach a contact. `send` resolves when the provider accepted the message and
 * throws TransientChannelError (retry later; the breaker counts it) or PermanentChannelError
 * (retrying cannot help) otherwise. Anything else thrown is a bug.
 */
export interface Channel {
  readonly name: ChannelName;
  /**
   * How many sends of one account this channel has on the wire at once (more wait inside it,
   * e.g. for a pooled connection); undefined: no such bound. A caller that must keep the sends
   * whose outcome a crash would leave unknown to those on the wire claims no more than this.
   */
  readonly maxInFlight?: number;
  send(message: OutboundMessage, options: SendOptions): Promise<SendResult>;
  /** Releases pooled connections (on shutdown). */
  close?(): Promise<void>;
}
