import {
  PROVIDERS,
  webhookVerificationSchema,
  type ProviderName,
  type ProviderResult,
} from '@herald/provider-events';
import { z } from 'zod';
import { named } from '../http/openapi';

export const providerEventParams = z.object({
  sender_account_id: z.uuid().meta({ examples: ['0190f5e4-7777-7c3d-8e4f-5a6b7c8d9e0f'] }),
  provider: z.enum(PROVIDERS).meta({ description: 'Whose webhook this is.' }),
});

/** Documentation only: the body is the provider's own, read raw (its signature covers the bytes). */
export const providerEventBody = z
  .union([z.array(z.record(z.string(), z.unknown())), z.record(z.string(), z.unknown())])
  .meta({
    description:
      'Exactly what the provider posts: SendGrid a JSON array of events; Mailgun and Postmark one JSON event; SES an SNS message (sent as text/plain JSON).',
  });

export const EXAMPLE_PROVIDER_EVENT = [
  {
    email: 'ada@example.com',
    timestamp: 1795000000,
    event: 'bounce',
    type: 'bounce',
    reason: '550 5.1.1 The email account that you tried to reach does not exist',
    sg_event_id: 'ZGVsaXZlcmVkLTAtMjQ2OTk',
    sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
    'smtp-id': '<4e1b2c0d9a8f7e6d5c4b3a2910f8e7d6@herald>',
    herald_delivery_id: '0190f5e4-9999-7c3d-8e4f-5a6b7c8d9e0f',
  },
];

export const ProviderEventResultSchema = named(
  'ProviderEventResult',
  z.object({
    received: z.number().int().meta({ description: 'Events in the request.' }),
    recorded: z.number().int().meta({ description: 'Events recorded now (and acted on).' }),
    replayed: z.number().int().meta({ description: 'Events already recorded: nothing changed.' }),
    unmatched: z
      .number()
      .int()
      .meta({ description: 'Events naming no delivery of this tenant: not recorded.' }),
    ignored: z
      .number()
      .int()
      .meta({ description: 'Events of a type Herald does not record (processed, deferred, accepted…).' }),
    subscription_confirmed: z
      .boolean()
      .optional()
      .meta({ description: 'SES: the SNS subscription was confirmed.' }),
  }),
);

export function providerEventResultView(r: ProviderResult) {
  return {
    received: r.received,
    recorded: r.recorded,
    replayed: r.replayed,
    unmatched: r.unmatched,
    ignored: r.ignored,
    ...(r.subscriptionConfirmed !== undefined ? { subscription_confirmed: r.subscriptionConfirmed } : {}),
  };
}

export const providerWebhookBody = webhookVerificationSchema;

export const EXAMPLE_PROVIDER_WEBHOOK_INPUT = {
  provider: 'mailgun',
  signing_key: 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0',
};

export const ProviderWebhookSchema = named(
  'ProviderWebhook',
  z.object({
    provider: z.enum(PROVIDERS),
    path: z.string().meta({
      description:
        'Where the provider must post its events, on this API’s public address (Postmark: with the Basic credentials in the URL, https://user:password@host/…).',
    }),
  }),
);

export function providerWebhookView(accountId: string, provider: ProviderName) {
  return { provider, path: `/v1/provider-events/${accountId}/${provider}` };
}
