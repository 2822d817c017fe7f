import { createHash, timingSafeEqual } from 'node:crypto';
import { ProviderPayloadError, ProviderSignatureError } from './provider-errors';
import {
  clip,
  dateOf,
  DELIVERY_ID_ARG,
  isRecord,
  reference,
  type ParsedEvents,
  type ProviderEvent,
} from './provider-event';
import type { VerificationOf } from './webhook-verification';

/**
 * Postmark does not sign its webhooks (no HMAC exists to check): what authenticates them is the
 * HTTP Basic credentials Postmark is given in the webhook URL (`https://user:pass@…`). Both are
 * compared in constant time; the URL must be HTTPS for them to stay secret.
 */
export function verifyPostmark(
  authorization: string | undefined,
  settings: VerificationOf<'postmark'>,
): void {
  const match = /^Basic\s+([A-Za-z0-9+/=]{1,1000})$/i.exec(authorization?.trim() ?? '');
  if (!match)
    throw new ProviderSignatureError('Postmark webhooks must carry the Basic credentials set on the account');
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const pass = colon < 0 ? '' : decoded.slice(colon + 1);
  // Both compared, always, so the time taken says nothing about which one was wrong.
  const userOk = sameSecret(user, settings.username);
  const passOk = sameSecret(pass, settings.password);
  if (!(userOk && passOk)) throw new ProviderSignatureError('the Postmark Basic credentials do not match');
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Postmark bounce types that say the address is gone (the rest is transient or informational). */
const HARD = new Set(['HardBounce', 'BadEmailAddress', 'ManuallyDeactivated']);
/** Not a delivery failure: an auto-reply, a challenge, a subscribe request… */
const INFORMATIONAL = new Set([
  'AutoResponder',
  'Subscribe',
  'AddressChange',
  'OpenRelayTest',
  'ChallengeVerification',
  'Unconfirmed',
]);

/**
 * One Postmark webhook (`RecordType`: Delivery, Bounce, SpamComplaint, Open, Click,
 * SubscriptionChange). Postmark events have no id of their own except a bounce's `ID`: the others
 * are named by record type, message and time.
 */
export function parsePostmark(body: unknown): ParsedEvents {
  if (!isRecord(body) || typeof body.RecordType !== 'string') {
    throw new ProviderPayloadError('RecordType', 'must be a Postmark webhook with its RecordType');
  }
  const event = toEvent(body);
  return event ? { events: [event], ignored: 0 } : { events: [], ignored: 1 };
}

function toEvent(body: Record<string, unknown>): ProviderEvent | undefined {
  const type = body.RecordType as string;
  const metadata = isRecord(body.Metadata) ? body.Metadata : {};
  const messageId = clip(body.MessageID, 100);
  const at = dateOf(body.DeliveredAt ?? body.BouncedAt ?? body.ReceivedAt ?? body.ChangedAt);
  if (!messageId || !at) return undefined;
  const bounceId = typeof body.ID === 'number' || typeof body.ID === 'string' ? String(body.ID) : undefined;
  const base = {
    sourceEventId: bounceId
      ? `${type}:${bounceId}`
      : `${type}:${messageId}:${at.toISOString()}${type === 'Click' ? `:${clip(body.OriginalLink, 150) ?? ''}` : ''}`,
    occurredAt: at,
    message: reference(metadata[DELIVERY_ID_ARG], undefined),
    details: { record_type: type, postmark_message_id: messageId },
  };
  switch (type) {
    case 'Delivery':
      return { ...base, kind: 'delivered' };
    case 'Bounce': {
      const bounceType = typeof body.Type === 'string' ? body.Type : 'Unknown';
      if (INFORMATIONAL.has(bounceType)) return undefined;
      if (bounceType === 'SpamComplaint') return { ...base, kind: 'complained' };
      if (bounceType === 'Unsubscribe') return { ...base, kind: 'unsubscribed' };
      const reason = clip(body.Description) ?? clip(body.Details);
      return {
        ...base,
        kind: 'bounced',
        bounceType: HARD.has(bounceType) ? 'hard' : 'soft',
        ...(reason ? { reason } : {}),
        details: { ...base.details, type: bounceType },
      };
    }
    case 'SpamComplaint':
      return { ...base, kind: 'complained' };
    case 'Open':
      return { ...base, kind: 'opened' };
    case 'Click': {
      const url = clip(body.OriginalLink, 2000);
      return { ...base, kind: 'clicked', ...(url ? { url } : {}) };
    }
    case 'SubscriptionChange':
      return body.SuppressSending === true && body.SuppressionReason === 'ManualSuppression'
        ? { ...base, kind: 'unsubscribed' }
        : undefined;
    default:
      return undefined;
  }
}
