import type { EngagementKind } from '@herald/engagement';

/** The email providers whose event webhooks Herald verifies and records. */
export const PROVIDERS = ['sendgrid', 'ses', 'postmark', 'mailgun'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** The kinds a provider reports (replies and conversions come from elsewhere). */
export type ProviderEventKind = Extract<
  EngagementKind,
  'delivered' | 'bounced' | 'complained' | 'opened' | 'clicked' | 'unsubscribed'
>;

/**
 * How an event names its message: Herald's delivery id (the custom arg, metadata, tag or
 * header `herald_delivery_id` / `X-Herald-Delivery-Id`) and/or the Message-ID Herald gave it.
 */
export interface MessageReference {
  deliveryId?: string;
  messageId?: string;
}

/** One provider event, normalised: what the recorder and the side effects need. */
export interface ProviderEvent {
  kind: ProviderEventKind;
  bounceType?: 'hard' | 'soft';
  /** The provider's own id for the event: what makes a replay a no-op. */
  sourceEventId: string;
  occurredAt: Date;
  message: MessageReference;
  url?: string;
  /** Why, as the provider says it (a bounce's diagnostic, a complaint's feedback type). */
  reason?: string;
  /** A small, non-personal extract kept with the event. */
  details: Record<string, unknown>;
}

/** What a parser makes of a body: the events it understood and how many it skipped as irrelevant. */
export interface ParsedEvents {
  events: ProviderEvent[];
  ignored: number;
}

/** The custom argument / metadata / tag / header name the channel puts the delivery id in. */
export const DELIVERY_ID_ARG = 'herald_delivery_id';
export const DELIVERY_ID_HEADER = 'x-herald-delivery-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DIGEST_MESSAGE_ID = /^<?([0-9a-f]{32})@herald>?$/i;

/** A delivery id as the provider echoed it, when it is one. */
export function deliveryIdOf(value: unknown): string | undefined {
  const text: unknown = Array.isArray(value) ? (value as unknown[])[0] : value;
  return typeof text === 'string' && UUID.test(text.trim()) ? text.trim().toLowerCase() : undefined;
}

/** The delivery-key digest inside a Message-ID Herald set (`<digest@herald>`, brackets optional). */
export function heraldDigestOf(messageId: unknown): string | undefined {
  if (typeof messageId !== 'string') return undefined;
  return DIGEST_MESSAGE_ID.exec(messageId.trim())?.[1]?.toLowerCase();
}

/** A reference with only the parts that are there. */
export function reference(deliveryId: unknown, messageId: unknown): MessageReference {
  const id = deliveryIdOf(deliveryId);
  const digest = heraldDigestOf(messageId);
  return { ...(id ? { deliveryId: id } : {}), ...(digest ? { messageId: digest } : {}) };
}

/** Keeps a provider's text bounded (reasons end up in interactions and details). */
export function clip(value: unknown, max = 500): string | undefined {
  if (typeof value !== 'string') return undefined;
  // eslint-disable-next-line no-control-regex -- control characters have no place in a stored reason
  const clean = value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return clean ? clean.slice(0, max) : undefined;
}

/** A date from seconds since the epoch (SendGrid, Mailgun) or an ISO string (SES, Postmark). */
export function dateOf(value: unknown): Date | undefined {
  const date =
    typeof value === 'number'
      ? new Date(value * 1000)
      : typeof value === 'string' && value.trim() !== ''
        ? new Date(value)
        : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
