import { createPublicKey, verify } from 'node:crypto';
import { ProviderPayloadError, ProviderSignatureError, signatureHolds } from './provider-errors';
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

export const SENDGRID_SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const SENDGRID_TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

/**
 * SendGrid's signed Event Webhook: an ECDSA P-256 / SHA-256 signature (base64 DER) over the
 * timestamp header followed by the raw body, checked with the account's public key. A timestamp
 * farther than `toleranceSeconds` from now is refused, so a captured request cannot be replayed later.
 */
export function verifySendgrid(
  rawBody: string,
  headers: Record<string, string | undefined>,
  settings: VerificationOf<'sendgrid'>,
  nowMs: number,
  toleranceSeconds: number,
): void {
  const signature = headers[SENDGRID_SIGNATURE_HEADER];
  const timestamp = headers[SENDGRID_TIMESTAMP_HEADER];
  if (!signature || !timestamp)
    throw new ProviderSignatureError('the SendGrid signature headers are missing');
  if (!/^\d{1,12}$/.test(timestamp))
    throw new ProviderSignatureError('the SendGrid timestamp is not a number');
  const key = createPublicKey({
    key: Buffer.from(settings.public_key, 'base64'),
    format: 'der',
    type: 'spki',
  });
  const valid = signatureHolds(() =>
    verify('sha256', Buffer.from(timestamp + rawBody, 'utf8'), key, Buffer.from(signature, 'base64')),
  );
  if (!valid) throw new ProviderSignatureError('the SendGrid signature does not match');
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) {
    throw new ProviderSignatureError('the SendGrid timestamp is too old or in the future', 'replay');
  }
}

/**
 * A SendGrid batch: a JSON array of events. `processed`, `deferred`, `dropped` and resubscribes
 * say nothing about the recipient's engagement and are skipped. A `bounce` of type `blocked` is
 * soft (the receiver refused this time), any other bounce hard. `sg_machine_open` marks opens
 * made by a mail client's privacy proxy.
 */
export function parseSendgrid(body: unknown): ParsedEvents {
  if (!Array.isArray(body)) throw new ProviderPayloadError('', 'must be a JSON array of SendGrid events');
  const events: ProviderEvent[] = [];
  let ignored = 0;
  for (const raw of body) {
    const event = isRecord(raw) ? toEvent(raw) : undefined;
    if (event) events.push(event);
    else ignored += 1;
  }
  return { events, ignored };
}

function toEvent(raw: Record<string, unknown>): ProviderEvent | undefined {
  const id = raw.sg_event_id;
  const occurredAt = dateOf(raw.timestamp);
  if (typeof id !== 'string' || id === '' || id.length > 200 || !occurredAt) return undefined;
  const base = {
    sourceEventId: id,
    occurredAt,
    message: reference(raw[DELIVERY_ID_ARG], raw['smtp-id']),
    details: {
      event: raw.event,
      ...(typeof raw.sg_message_id === 'string' ? { sg_message_id: clip(raw.sg_message_id, 200) } : {}),
    },
  };
  switch (raw.event) {
    case 'delivered':
      return { ...base, kind: 'delivered' };
    case 'bounce': {
      const reason = clip(raw.reason);
      return {
        ...base,
        kind: 'bounced',
        bounceType: raw.type === 'blocked' ? 'soft' : 'hard',
        ...(reason ? { reason } : {}),
        details: {
          ...base.details,
          type: clip(raw.type, 40),
          classification: clip(raw.bounce_classification, 80),
        },
      };
    }
    case 'open':
      return { ...base, kind: 'opened', details: { ...base.details, machine: raw.sg_machine_open === true } };
    case 'click': {
      const url = clip(raw.url, 2000);
      return { ...base, kind: 'clicked', ...(url ? { url } : {}) };
    }
    case 'spamreport':
      return { ...base, kind: 'complained' };
    case 'unsubscribe':
    case 'group_unsubscribe':
      return { ...base, kind: 'unsubscribed' };
    default:
      return undefined;
  }
}
