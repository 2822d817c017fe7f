import { createHmac, timingSafeEqual } from 'node:crypto';
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

/** A Mailgun signature's token, to be refused when seen again (kept as long as the timestamp is acceptable). */
export interface MailgunToken {
  token: string;
  ttlSeconds: number;
}

/**
 * Mailgun's webhook signature: HMAC-SHA256, keyed with the account's webhook signing key, of the
 * body's `signature.timestamp` followed by `signature.token` (hex). A timestamp farther than
 * `toleranceSeconds` from now is refused; the caller refuses a token it has seen before.
 */
export function verifyMailgun(
  body: unknown,
  settings: VerificationOf<'mailgun'>,
  nowMs: number,
  toleranceSeconds: number,
): MailgunToken {
  const signature = isRecord(body) && isRecord(body.signature) ? body.signature : undefined;
  const timestamp = signature?.timestamp;
  const token = signature?.token;
  const given = signature?.signature;
  if (
    typeof timestamp !== 'string' ||
    !/^\d{1,12}$/.test(timestamp) ||
    typeof token !== 'string' ||
    token.length < 16 ||
    token.length > 200 ||
    typeof given !== 'string' ||
    !/^[0-9a-f]{64}$/i.test(given)
  ) {
    throw new ProviderSignatureError('the Mailgun signature is missing or malformed');
  }
  const expected = createHmac('sha256', settings.signing_key)
    .update(timestamp + token)
    .digest();
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) {
    throw new ProviderSignatureError('the Mailgun signature does not match');
  }
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) {
    throw new ProviderSignatureError('the Mailgun timestamp is too old or in the future', 'replay');
  }
  return { token, ttlSeconds: toleranceSeconds * 2 };
}

/**
 * One Mailgun event (`event-data`). `failed` is a bounce: `severity: permanent` hard,
 * `temporary` soft. `accepted`, `rejected` and `stored` are skipped.
 */
export function parseMailgun(body: unknown): ParsedEvents {
  const data = isRecord(body) ? body['event-data'] : undefined;
  if (!isRecord(data)) throw new ProviderPayloadError('event-data', 'must be the Mailgun event object');
  const event = toEvent(data);
  return event ? { events: [event], ignored: 0 } : { events: [], ignored: 1 };
}

function toEvent(data: Record<string, unknown>): ProviderEvent | undefined {
  const id = data.id;
  const occurredAt = dateOf(data.timestamp);
  if (typeof id !== 'string' || id === '' || id.length > 200 || !occurredAt) return undefined;
  const variables = isRecord(data['user-variables']) ? data['user-variables'] : {};
  const message = isRecord(data.message) ? data.message : {};
  const headers = isRecord(message.headers) ? message.headers : {};
  const base = {
    sourceEventId: id,
    occurredAt,
    message: reference(variables[DELIVERY_ID_ARG], headers['message-id']),
    details: { event: data.event },
  };
  switch (data.event) {
    case 'delivered':
      return { ...base, kind: 'delivered' };
    case 'failed': {
      const status = isRecord(data['delivery-status']) ? data['delivery-status'] : {};
      const reason = clip(status.description) ?? clip(status.message) ?? clip(data.reason);
      return {
        ...base,
        kind: 'bounced',
        bounceType: data.severity === 'permanent' ? 'hard' : 'soft',
        ...(reason ? { reason } : {}),
        details: { ...base.details, severity: clip(data.severity, 40), code: status.code ?? null },
      };
    }
    case 'opened':
      return { ...base, kind: 'opened' };
    case 'clicked': {
      const url = clip(data.url, 2000);
      return { ...base, kind: 'clicked', ...(url ? { url } : {}) };
    }
    case 'complained':
      return { ...base, kind: 'complained' };
    case 'unsubscribed':
      return { ...base, kind: 'unsubscribed' };
    default:
      return undefined;
  }
}
