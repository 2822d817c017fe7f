import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import type { ProviderName } from './provider-event';

const secret = (min: number) =>
  z
    .string({ error: 'must be a string' })
    .min(min, `must be at least ${min} characters`)
    .max(500, 'must be at most 500 characters');

/** A SendGrid verification key: base64 DER (SubjectPublicKeyInfo) of a P-256 key, as the SendGrid console shows it. */
const sendgridPublicKey = z
  .string({ error: 'must be a string' })
  .trim()
  .max(500, 'must be at most 500 characters')
  .refine((value) => {
    try {
      const key = createPublicKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'spki' });
      return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
    } catch {
      return false;
    }
  }, 'must be the base64 P-256 public key SendGrid shows for the signed Event Webhook');

/**
 * How a sender account's provider webhook is verified. Sealed like the account's credentials;
 * never returned or logged. Postmark signs nothing: its webhooks carry HTTP Basic credentials
 * set on the webhook URL, which are what is checked. SES via SNS is signed by AWS for any
 * topic, so the account names the one topic it accepts.
 */
export const webhookVerificationSchema = z.discriminatedUnion(
  'provider',
  [
    z.strictObject({ provider: z.literal('sendgrid'), public_key: sendgridPublicKey }),
    z.strictObject({
      provider: z.literal('ses'),
      topic_arn: z
        .string({ error: 'must be a string' })
        .regex(
          /^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/,
          'must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)',
        ),
    }),
    z.strictObject({
      provider: z.literal('postmark'),
      username: z
        .string({ error: 'must be a string' })
        .min(1, 'must not be empty')
        .max(100, 'must be at most 100 characters')
        .refine((v) => !v.includes(':'), 'must not contain ":"'),
      password: secret(16),
    }),
    z.strictObject({ provider: z.literal('mailgun'), signing_key: secret(16) }),
  ],
  { error: 'provider must be sendgrid, ses, postmark or mailgun' },
);
export type WebhookVerification = z.output<typeof webhookVerificationSchema>;
export type VerificationOf<P extends ProviderName> = Extract<WebhookVerification, { provider: P }>;
