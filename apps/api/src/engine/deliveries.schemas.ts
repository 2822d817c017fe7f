import { plainText } from '@herald/contacts';
import { DELIVERY_STATUSES, type DeliveryRecord } from '@herald/deliveries';
import { z } from 'zod';
import { named } from '../http/openapi';
import { pageQuery } from '../tenants/tenants.schemas';

const iso = z.string().meta({ format: 'date-time' });

export const listDeliveriesQuery = pageQuery.extend({
  status: z
    .enum(['unknown'], 'must be unknown: the deliveries waiting for an operator')
    .optional()
    .meta({
      description:
        'Which deliveries: `unknown` (the only listing for now, and the default) — a crash left their send’s outcome unknown and their sender account takes no repeat, so each waits for an operator to resend or close it.',
      examples: ['unknown'],
    }),
});

export const deliveryIdParams = z.object({
  id: z.uuid().meta({ examples: ['0190f5e4-5555-7c3d-8e4f-5a6b7c8d9e0f'] }),
});

export const resendBody = z
  .strictObject({
    reason: plainText(500)
      .optional()
      .meta({ description: 'Why it is resent (kept in the delivery’s `last_error` until it is sent).' }),
  })
  .optional();

export const closeBody = z.strictObject({
  outcome: z.enum(['sent', 'failed'], 'must be sent or failed').meta({
    description:
      '`sent`: the provider has it (checked in its logs, or the recipient confirmed). `failed`: it did not arrive, or a second copy is not worth the risk; it is not sent again.',
  }),
  reason: plainText(500).meta({
    description: 'What the operator found; kept in the ledger and the interaction.',
  }),
});

export const DeliverySchema = named(
  'Delivery',
  z.object({
    id: z.uuid(),
    tenant_id: z.uuid(),
    delivery_key: z
      .string()
      .meta({ description: 'What is never sent twice; the provider sees it (Idempotency-Key, Message-ID).' }),
    campaign_id: z.uuid(),
    run_id: z.uuid().nullable(),
    contact_id: z.uuid(),
    sender_account_id: z.uuid(),
    channel: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int().meta({ description: 'Send attempts so far.' }),
    last_error: z
      .string()
      .nullable()
      .meta({ description: 'Why it is where it is (for `unknown`: how it got there).' }),
    created_at: iso,
    updated_at: iso,
  }),
);

export const DeliveryPageSchema = named(
  'DeliveryPage',
  z.object({ data: z.array(DeliverySchema), next_cursor: z.string().nullable() }),
);

export const EXAMPLE_DELIVERY = {
  id: '0190f5e4-5555-7c3d-8e4f-5a6b7c8d9e0f',
  tenant_id: '0190f5e4-1111-7c3d-8e4f-5a6b7c8d9e0f',
  delivery_key: 'bc:0190f5e4-9999-7c3d-8e4f-5a6b7c8d9e0f:0190f5e4-7777-7c3d-8e4f-5a6b7c8d9e0f',
  campaign_id: '0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f',
  run_id: '0190f5e4-9999-7c3d-8e4f-5a6b7c8d9e0f',
  contact_id: '0190f5e4-7777-7c3d-8e4f-5a6b7c8d9e0f',
  sender_account_id: '0190f5e4-6666-7c3d-8e4f-5a6b7c8d9e0f',
  channel: 'smtp',
  status: 'unknown',
  attempts: 1,
  last_error:
    'outcome unknown: the attempt sending it stopped before recording whether the provider accepted it; not sent again until an operator resends or closes it',
  created_at: '2026-11-22T10:20:00.000Z',
  updated_at: '2026-11-22T10:21:05.000Z',
};

export function deliveryView(d: DeliveryRecord) {
  return {
    id: d.id,
    tenant_id: d.tenantId,
    delivery_key: d.deliveryKey,
    campaign_id: d.campaignId,
    run_id: d.runId,
    contact_id: d.contactId,
    sender_account_id: d.senderAccountId,
    channel: d.channel,
    status: d.status,
    attempts: d.attempts,
    last_error: d.lastError,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}
