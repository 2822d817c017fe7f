import { z } from 'zod';
import { named } from '../http/openapi';

/** Events one request may carry. */
export const BULK_EVENTS_MAX = 1000;

/**
 * Kinds this route takes: the ones that only count. A bounce, complaint, unsubscribe or reply
 * must also act (suppress, stop sequences): those come through POST /v1/events or a provider's
 * webhook, which do.
 */
export const BULK_KINDS = ['delivered', 'opened', 'clicked', 'converted'] as const;

const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));
const DECIMAL = /^\d{1,16}(\.\d{1,4})?$/;
const FUTURE_SKEW_MS = 5 * 60_000;

const bulkEvent = z
  .strictObject({
    event_id: z
      .string({ error: 'must be a string' })
      .min(1, 'must not be empty')
      .max(200, 'must be at most 200 characters')
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
      .meta({
        description: 'Your id for the event: the same id again is a no-op (counted in `duplicates`).',
      }),
    kind: z.enum(BULK_KINDS, { error: `must be one of ${BULK_KINDS.join(', ')}` }),
    delivery_id: z
      .uuid('must be a UUID')
      .transform((v) => v.toLowerCase())
      .optional()
      .meta({
        description: 'The delivery it is about (its campaign, step, variant and account are copied).',
      }),
    contact_id: z
      .uuid('must be a UUID')
      .transform((v) => v.toLowerCase())
      .optional()
      .meta({ description: 'A conversion without a delivery: the contact.' }),
    occurred_at: z.iso
      .datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone' })
      .refine((v) => new Date(v).getTime() <= Date.now() + FUTURE_SKEW_MS, {
        message: 'must not be in the future',
      }),
    machine: z
      .boolean({ error: 'must be true or false' })
      .optional()
      .meta({ description: 'A prefetcher or scanner: kept, never counted as a person.' }),
    url: z.url('must be a URL').max(2000, 'must be at most 2000 characters').optional(),
    value: z
      .string({ error: 'must be a decimal string' })
      .refine((v) => DECIMAL.test(v), 'must be a non-negative decimal with at most 4 decimal places')
      .optional(),
    currency: z
      .string({ error: 'must be a string' })
      .refine((v) => CURRENCIES.has(v), 'must be an ISO 4217 currency code, e.g. EUR')
      .optional(),
  })
  .superRefine((e, ctx) => {
    if (e.kind !== 'converted' && e.delivery_id === undefined)
      ctx.addIssue({ code: 'custom', path: ['delivery_id'], message: `is required for ${e.kind}` });
    if (e.kind !== 'converted' && (e.value !== undefined || e.currency !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: [e.value !== undefined ? 'value' : 'currency'],
        message: 'is only for converted',
      });
    if ((e.value === undefined) !== (e.currency === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [e.value === undefined ? 'value' : 'currency'],
        message: 'give value and currency together',
      });
    if (e.url !== undefined && e.kind !== 'clicked')
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'is only for clicked' });
  });

export const bulkEventsBody = z.strictObject({
  events: z
    .array(bulkEvent, { error: 'must be an array' })
    .min(1, 'give at least one event')
    .max(BULK_EVENTS_MAX, `must have at most ${BULK_EVENTS_MAX} events`),
});

export const BulkEventsResultSchema = named(
  'BulkEventsResult',
  z.object({
    recorded: z.number().int().meta({ description: 'Events recorded now (and counted in the analytics).' }),
    duplicates: z
      .number()
      .int()
      .meta({ description: 'Events whose event_id was recorded before (or twice in this request).' }),
    unmatched: z.number().int().meta({
      description:
        'Of those recorded, events whose delivery_id names no delivery of this tenant: kept, counted in no campaign.',
    }),
  }),
);

export const EXAMPLE_BULK_EVENTS = {
  events: [
    {
      event_id: 'sg-1f2e3d',
      kind: 'delivered',
      delivery_id: '0190f5e4-cccc-7c3d-8e4f-5a6b7c8d9e0f',
      occurred_at: '2026-11-22T10:20:00Z',
    },
    {
      event_id: 'sg-1f2e3e',
      kind: 'clicked',
      delivery_id: '0190f5e4-cccc-7c3d-8e4f-5a6b7c8d9e0f',
      occurred_at: '2026-11-22T10:25:00Z',
      url: 'https://example.com/pricing',
    },
    {
      event_id: 'order-1001',
      kind: 'converted',
      delivery_id: '0190f5e4-cccc-7c3d-8e4f-5a6b7c8d9e0f',
      occurred_at: '2026-11-23T08:00:00Z',
      value: '49.90',
      currency: 'EUR',
    },
  ],
};
