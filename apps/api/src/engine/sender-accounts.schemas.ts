import { SECRET_CONFIG_FIELDS, smtpAccountConfigSchema, webhookAccountConfigSchema } from '@herald/channels';
import { plainText } from '@herald/contacts';
import { DELIVERY_GUARANTEES, type SenderAccountRecord } from '@herald/deliveries';
import type { WindowUsage } from '@herald/rate-limit';
import { timeZoneSchema, type WindowUnit } from '@herald/time';
import { z } from 'zod';
import { component, named } from '../http/openapi';

const iso = z.string().meta({ format: 'date-time' });
const MAX_QUOTA = 100_000_000;
const GUARANTEE_DOC =
  'What happens to a send a crash left unknown: `at_most_once` holds it as `unknown` until an operator resends or closes it; `at_least_once` sends it again with the same delivery key. Default: at_least_once for webhook (the receiver drops a repeated Idempotency-Key), at_most_once for smtp.';

const quota = (window: string) =>
  z
    .number()
    .int('must be a whole number')
    .min(0, 'must not be negative')
    .max(MAX_QUOTA, `must be at most ${MAX_QUOTA}`)
    .nullable()
    .optional()
    .meta({ description: `Sends per ${window} window; absent or null: unlimited.` });

export const quotasSchema = z
  .strictObject({ hourly: quota('hour'), daily: quota('day'), weekly: quota('week') })
  .meta({
    description:
      'Windows are counted in the account’s time zone: an hour, a calendar day from local midnight, a week from Monday 00:00.',
  });

const common = {
  name: plainText(100).meta({ description: 'What the account is.', examples: ['Newsletter hook'] }),
  quotas: quotasSchema.optional(),
  time_zone: timeZoneSchema
    .optional()
    .meta({ description: 'IANA zone the quota windows are counted in. Default: the tenant’s.' }),
  delivery_guarantee: z
    .enum(DELIVERY_GUARANTEES, 'must be at_most_once or at_least_once')
    .optional()
    .meta({ description: GUARANTEE_DOC }),
};

export const createSenderAccountBody = z.discriminatedUnion(
  'channel',
  [
    z.strictObject({
      ...common,
      channel: z.literal('smtp'),
      config: smtpAccountConfigSchema.meta({
        description: 'SMTP server and credentials. `password` is sealed and never returned.',
      }),
    }),
    z.strictObject({
      ...common,
      channel: z.literal('webhook'),
      config: webhookAccountConfigSchema.meta({
        description:
          'Where to POST each message, and the HMAC key of its X-Herald-Signature. `secret` is sealed and never returned.',
      }),
    }),
  ],
  { error: 'must be smtp or webhook' },
);
export type CreateSenderAccountBody = z.output<typeof createSenderAccountBody>;

export const senderAccountIdParams = z.object({
  id: z.uuid().meta({ examples: ['0190f5e4-7777-7c3d-8e4f-5a6b7c8d9e0f'] }),
});

export const SenderAccountSchema = named(
  'SenderAccount',
  z.object({
    id: z.uuid(),
    name: z.string(),
    channel: z.enum(['smtp', 'webhook', 'dry-run']),
    config: z
      .record(z.string(), z.unknown())
      .meta({ description: 'The channel config without its secret fields.' }),
    secret_fields: z.array(z.string()).meta({
      description: 'Config fields Herald keeps sealed (AES-256-GCM); their values are never returned.',
    }),
    quotas: z.object({
      hourly: z.number().int().nullable(),
      daily: z.number().int().nullable(),
      weekly: z.number().int().nullable(),
    }),
    time_zone: z.string(),
    delivery_guarantee: z.enum(DELIVERY_GUARANTEES).meta({ description: GUARANTEE_DOC }),
    status: z.enum(['active', 'paused', 'disabled']),
    paused_reason: z.string().nullable().meta({
      description:
        'Why account health paused the account (its bounce or complaint rate from provider events crossed a threshold); null otherwise. Resuming clears it.',
    }),
    created_at: iso,
    updated_at: iso,
  }),
);
export const SenderAccountListSchema = component(
  'SenderAccountList',
  z.object({ data: z.array(SenderAccountSchema), next_cursor: z.string().nullable() }),
);

export const QuotaUsageSchema = named(
  'QuotaUsage',
  z.object({
    windows: z
      .array(
        z.object({
          window: z.enum(['hourly', 'daily', 'weekly']),
          limit: z.number().int(),
          used: z.number().int().meta({ description: 'Units taken in this window (sent, or being sent).' }),
          remaining: z.number().int(),
          resets_at: iso.meta({ description: 'When this window ends and its count starts again.' }),
        }),
      )
      .meta({ description: 'One entry per configured quota; unlimited windows are not listed.' }),
  }),
);

export const EXAMPLE_SENDER_ACCOUNT = {
  id: '0190f5e4-7777-7c3d-8e4f-5a6b7c8d9e0f',
  name: 'Newsletter hook',
  channel: 'webhook',
  config: { url: 'https://hooks.example.com/herald' },
  secret_fields: ['secret'],
  quotas: { hourly: null, daily: 5000, weekly: null },
  time_zone: 'Europe/Paris',
  delivery_guarantee: 'at_least_once',
  status: 'active',
  paused_reason: null,
  created_at: '2026-11-22T10:15:00.000Z',
  updated_at: '2026-11-22T10:15:00.000Z',
};

export const EXAMPLE_SENDER_ACCOUNT_INPUT = {
  name: 'Newsletter hook',
  channel: 'webhook',
  config: { url: 'https://hooks.example.com/herald', secret: 'whsec_4fR8sT1uV6wX0yZ2' },
  quotas: { daily: 5000 },
  time_zone: 'Europe/Paris',
};

export function senderAccountView(a: SenderAccountRecord) {
  return {
    id: a.id,
    name: a.name,
    channel: a.channel,
    config: a.settings,
    secret_fields: [...SECRET_CONFIG_FIELDS[a.channel]],
    quotas: { hourly: a.quotas.hourly, daily: a.quotas.daily, weekly: a.quotas.weekly },
    time_zone: a.timeZone,
    delivery_guarantee: a.deliveryGuarantee,
    status: a.status,
    paused_reason: a.pausedReason,
    created_at: a.createdAt.toISOString(),
    updated_at: a.updatedAt.toISOString(),
  };
}

const WINDOW_NAMES: Record<WindowUnit, 'hourly' | 'daily' | 'weekly'> = {
  hour: 'hourly',
  day: 'daily',
  week: 'weekly',
};

export function quotaUsageView(windows: readonly WindowUsage[]) {
  return {
    windows: windows.map((w) => ({
      window: WINDOW_NAMES[w.unit],
      limit: w.limit,
      used: w.used,
      remaining: w.remaining,
      resets_at: new Date(w.resetAt).toISOString(),
    })),
  };
}
