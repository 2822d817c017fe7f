import { z } from 'zod';

/** The email providers whose SMTP relays echo a custom argument back in their event webhooks. */
export const PROVIDER_TAG_KINDS = ['sendgrid', 'mailgun', 'postmark', 'ses'] as const;
export const providerTagSchema = z.enum(PROVIDER_TAG_KINDS);
export type ProviderTag = z.infer<typeof providerTagSchema>;

/** The argument's name, as the provider-event matcher reads it back. */
export const DELIVERY_ARGUMENT = 'herald_delivery_id';

/**
 * The header through which the account's provider carries the delivery id into its events (opens
 * and clicks carry no Message-ID at SendGrid and Mailgun; Postmark and SES replace it with their
 * own): each provider's documented custom-argument header for SMTP submissions.
 */
export function providerTagHeaders(
  provider: ProviderTag | undefined,
  deliveryId: string,
): Record<string, string> {
  switch (provider) {
    case 'sendgrid':
      return { 'X-SMTPAPI': JSON.stringify({ unique_args: { [DELIVERY_ARGUMENT]: deliveryId } }) };
    case 'mailgun':
      return { 'X-Mailgun-Variables': JSON.stringify({ [DELIVERY_ARGUMENT]: deliveryId }) };
    case 'postmark':
      return { [`X-PM-Metadata-${DELIVERY_ARGUMENT}`]: deliveryId };
    case 'ses':
      return { 'X-SES-MESSAGE-TAGS': `${DELIVERY_ARGUMENT}=${deliveryId}` };
    case undefined:
      return {};
  }
}
