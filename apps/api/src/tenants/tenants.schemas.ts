import { plainText } from '@herald/contacts';
import { API_KEY_SCOPES } from '@herald/tenants';
import { timeZoneSchema } from '@herald/time';
import { z } from 'zod';
import { component, named } from '../http/openapi';

const deliveryWeight = z
  .number({ error: 'must be a whole number from 1 to 100' })
  .int('must be a whole number from 1 to 100')
  .min(1, 'must be at least 1')
  .max(100, 'must be at most 100')
  .meta({
    description:
      'The tenant’s share of the delivery workers while other tenants also have deliveries waiting: active tenants are served round robin, this many pages of 100 deliveries a turn (default 1).',
    examples: [1],
  });

export const createTenantBody = z.strictObject({
  name: plainText(200).meta({ description: 'Display name of the tenant.', examples: ['Acme Outreach'] }),
  time_zone: timeZoneSchema.meta({
    description: 'IANA time zone: schedules and "today" are in it.',
    examples: ['Europe/Paris'],
  }),
  delivery_weight: deliveryWeight.optional(),
});

export const tenantPatchBody = z.strictObject({ delivery_weight: deliveryWeight.optional() });

export const tenantIdParams = z.object({
  id: z.uuid().meta({ examples: ['0190f5e4-1111-7c3d-8e4f-5a6b7c8d9e0f'] }),
});

const scopes = z
  .array(z.enum(API_KEY_SCOPES, { error: 'must be read, write or admin' }))
  .min(1, 'give at least one scope')
  .max(3)
  .meta({
    description: 'read < write < admin: each scope includes the ones before it.',
    examples: [['read', 'write']],
  });

export const createApiKeyBody = z.strictObject({
  name: plainText(100).meta({ description: 'What the key is for.', examples: ['CRM sync'] }),
  scopes,
});

const iso = z.string().meta({ format: 'date-time' });

export const ApiKeySchema = named(
  'ApiKey',
  z.object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().meta({ description: 'The public part of the key (hk_<prefix>_…), to recognise it.' }),
    scopes: z.array(z.enum(API_KEY_SCOPES)),
    created_at: iso,
    last_used_at: iso
      .nullable()
      .meta({ description: 'Updated in batches (within a minute or so), not on every request.' }),
    revoked_at: iso.nullable(),
  }),
);

export const CreatedApiKeySchema = named(
  'CreatedApiKey',
  ApiKeySchema.extend({
    key: z
      .string()
      .meta({ description: 'The whole key. Shown once: store it now; Herald keeps only a keyed hash.' }),
  }),
);

export const TenantSchema = named(
  'Tenant',
  z.object({
    id: z.uuid(),
    name: z.string(),
    time_zone: z.string(),
    delivery_weight: z.number().int(),
    created_at: iso,
  }),
);

export const TenantCreatedSchema = named(
  'TenantCreated',
  TenantSchema.extend({ api_key: CreatedApiKeySchema }),
);

export const ApiKeyListSchema = component(
  'ApiKeyList',
  z.object({ data: z.array(ApiKeySchema), next_cursor: z.string().nullable() }),
);

/** A `limit` query value: a whole number from 1 to `max`, as text (the query string's). */
export function limitParam(max: number, description: string, example: string) {
  return z
    .string()
    .regex(new RegExp(`^\\d{1,${String(max).length}}$`), `must be a whole number from 1 to ${max}`)
    .transform(Number)
    .pipe(z.number().min(1, 'must be at least 1').max(max, `must be at most ${max}`))
    .optional()
    .meta({ description, examples: [example] });
}

export const pageQuery = z.strictObject({
  limit: limitParam(1000, 'Page size, 1 to 1000 (default 50).', '50'),
  cursor: z.string().max(200).optional().meta({ description: '`next_cursor` of the previous page.' }),
});

export const keyIdParams = z.object({
  id: z.uuid().meta({ examples: ['0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f'] }),
});

export const TenantListSchema = component(
  'TenantList',
  z.object({ data: z.array(TenantSchema), next_cursor: z.string().nullable() }),
);

export { apiKeyView, createdApiKeyView, tenantCreatedView, tenantView } from '@herald/tenants';

export const EXAMPLE_KEY = {
  id: '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f',
  name: 'CRM sync',
  prefix: 'Zk3q9TmV2xLp',
  scopes: ['read', 'write'],
  created_at: '2026-11-22T10:15:00.000Z',
  last_used_at: null,
  revoked_at: null,
};
export const EXAMPLE_FULL_KEY = 'hk_Zk3q9TmV2xLp_4fR8sT1uV6wX0yZ2aB5cD7eF9gH3iJ1k0L9mN2';
