import { verify } from 'node:crypto';
import { ProviderPayloadError, ProviderSignatureError, signatureHolds } from './provider-errors';
import {
  clip,
  dateOf,
  DELIVERY_ID_ARG,
  DELIVERY_ID_HEADER,
  isRecord,
  reference,
  type ParsedEvents,
  type ProviderEvent,
} from './provider-event';
import type { SnsCertificates } from './sns-certificates';
import type { VerificationOf } from './webhook-verification';

/** An SNS message as posted to an HTTP(S) subscription. */
export interface SnsMessage {
  Type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: '1' | '2';
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  Token?: string;
  SubscribeURL?: string;
}

const TYPES = new Set(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']);

/** The body as an SNS message (SNS posts JSON as text/plain); 400 naming the field otherwise. */
export function parseSnsMessage(body: unknown): SnsMessage {
  if (!isRecord(body)) throw new ProviderPayloadError('', 'must be an SNS message');
  const text = (field: string, max: number, optional = false): void => {
    const value = body[field];
    if (value === undefined && optional) return;
    if (typeof value !== 'string' || value.length === 0 || value.length > max)
      throw new ProviderPayloadError(field, `must be a string of at most ${max} characters`);
  };
  if (typeof body.Type !== 'string' || !TYPES.has(body.Type))
    throw new ProviderPayloadError(
      'Type',
      'must be Notification, SubscriptionConfirmation or UnsubscribeConfirmation',
    );
  text('MessageId', 200);
  text('TopicArn', 400);
  text('Message', 300_000);
  text('Timestamp', 40);
  text('Signature', 2000);
  text('SigningCertURL', 1000);
  text('Subject', 200, true);
  if (body.SignatureVersion !== '1' && body.SignatureVersion !== '2')
    throw new ProviderPayloadError('SignatureVersion', 'must be 1 or 2');
  if (body.Type !== 'Notification') {
    text('Token', 2000);
    text('SubscribeURL', 2000);
  }
  return body as unknown as SnsMessage;
}

/** The text SNS signs: the message's fields in this order, each as `name\nvalue\n` (docs: "Verifying the signatures of Amazon SNS messages"). */
export function snsStringToSign(message: SnsMessage): string {
  const fields: (keyof SnsMessage)[] =
    message.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return fields
    .filter((name) => message[name] !== undefined)
    .map((name) => `${name}\n${message[name]}\n`)
    .join('');
}

/**
 * An SNS message is verified with the certificate at its SigningCertURL (only ever fetched from
 * an SNS origin): RSA with SHA-1 (SignatureVersion 1) or SHA-256 (2). AWS signs for any topic, so
 * the message must also come from the topic the account names.
 */
export async function verifySns(
  message: SnsMessage,
  settings: VerificationOf<'ses'>,
  certificates: SnsCertificates,
): Promise<void> {
  if (message.TopicArn !== settings.topic_arn) {
    throw new ProviderSignatureError('the SNS message is not from the topic this account names');
  }
  const key = await certificates.keyFor(message.SigningCertURL);
  const valid = signatureHolds(() =>
    verify(
      message.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256',
      Buffer.from(snsStringToSign(message), 'utf8'),
      key,
      Buffer.from(message.Signature, 'base64'),
    ),
  );
  if (!valid) throw new ProviderSignatureError('the SNS signature does not match');
}

/**
 * An SES notification carried by a verified SNS Notification: either the event publishing format
 * (`eventType`) or the older notification format (`notificationType`). The SNS MessageId names the
 * event. Send, Reject, DeliveryDelay and RenderingFailure are skipped.
 */
export function parseSesNotification(message: SnsMessage): ParsedEvents {
  let body: unknown;
  try {
    body = JSON.parse(message.Message);
  } catch {
    throw new ProviderPayloadError('Message', 'must be an SES notification (JSON)');
  }
  if (!isRecord(body)) throw new ProviderPayloadError('Message', 'must be an SES notification (JSON)');
  const event = toEvent(body, message.MessageId);
  return event ? { events: [event], ignored: 0 } : { events: [], ignored: 1 };
}

function toEvent(body: Record<string, unknown>, snsMessageId: string): ProviderEvent | undefined {
  const type = body.eventType ?? body.notificationType;
  const mail = isRecord(body.mail) ? body.mail : {};
  const tags = isRecord(mail.tags) ? mail.tags : {};
  const headers = Array.isArray(mail.headers) ? mail.headers : [];
  const header = headers.find(
    (h): h is { name: string; value: unknown } =>
      isRecord(h) && typeof h.name === 'string' && h.name.toLowerCase() === DELIVERY_ID_HEADER,
  );
  const common = isRecord(mail.commonHeaders) ? mail.commonHeaders : {};
  const part = (name: string): Record<string, unknown> => (isRecord(body[name]) ? body[name] : {});
  const at = (name: string) => dateOf(part(name).timestamp) ?? dateOf(mail.timestamp);
  const base = (name: string) => {
    const occurredAt = at(name);
    return occurredAt
      ? {
          sourceEventId: snsMessageId,
          occurredAt,
          message: reference(tags[DELIVERY_ID_ARG] ?? header?.value, common.messageId),
          details: { event_type: type, ses_message_id: clip(mail.messageId, 200) },
        }
      : undefined;
  };
  switch (type) {
    case 'Delivery': {
      const b = base('delivery');
      return b && { ...b, kind: 'delivered' };
    }
    case 'Bounce': {
      const b = base('bounce');
      const bounce = part('bounce');
      const recipients = Array.isArray(bounce.bouncedRecipients) ? bounce.bouncedRecipients : [];
      const first: Record<string, unknown> = isRecord(recipients[0]) ? recipients[0] : {};
      const reason = clip(first.diagnosticCode) ?? clip(bounce.bounceSubType);
      return (
        b && {
          ...b,
          kind: 'bounced',
          bounceType: bounce.bounceType === 'Permanent' ? 'hard' : 'soft',
          ...(reason ? { reason } : {}),
          details: {
            ...b.details,
            bounce_type: clip(bounce.bounceType, 40),
            bounce_sub_type: clip(bounce.bounceSubType, 60),
          },
        }
      );
    }
    case 'Complaint': {
      const b = base('complaint');
      const feedback = clip(part('complaint').complaintFeedbackType, 100);
      return b && { ...b, kind: 'complained', ...(feedback ? { reason: feedback } : {}) };
    }
    case 'Open': {
      const b = base('open');
      return b && { ...b, kind: 'opened' };
    }
    case 'Click': {
      const b = base('click');
      const url = clip(part('click').link, 2000);
      return b && { ...b, kind: 'clicked', ...(url ? { url } : {}) };
    }
    case 'Subscription': {
      const b = base('subscription');
      return b && { ...b, kind: 'unsubscribed' };
    }
    default:
      return undefined;
  }
}
