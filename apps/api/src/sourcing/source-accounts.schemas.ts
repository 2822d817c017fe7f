import { plainText } from '@herald/contacts';
import {
  csvConfig,
  httpDirectoryConfig,
  httpEnrichmentConfig,
  profileVisitConfig,
  SECRET_SOURCE_FIELDS,
  SOURCE_ACCOUNT_STATUSES,
  SOURCE_KINDS,
  type SourceAccountRecord,
} from '@herald/sourcing';
import { timeZoneSchema } from '@herald/time';
import { z } from 'zod';
import { component, named } from '../http/openapi';
import { quotasSchema } from '../engine/sender-accounts.schemas';

const iso = z.string().meta({ format: 'date-time' });

const common = {
  name: plainText(100).meta({ description: 'What the account is.', examples: ['Local directory'] }),
  quotas: quotasSchema.optional().meta({
    description: 'Requests (a search page, a visit, a lookup) per hour, day and week; absent: unlimited.',
  }),
  time_zone: timeZoneSchema
    .optional()
    .meta({ description: 'IANA zone the quota windows are counted in. Default: the tenant’s.' }),
};

export const createSourceAccountBody = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ ...common, kind: z.literal('http-directory'), config: httpDirectoryConfig }),
    z.strictObject({
      ...common,
      kind: z.literal('profile-visit'),
      config: profileVisitConfig.default({} as never),
    }),
    z.strictObject({ ...common, kind: z.literal('csv'), config: csvConfig.default({} as never) }),
    z.strictObject({ ...common, kind: z.literal('http-enrichment'), config: httpEnrichmentConfig }),
  ],
  { error: 'must be http-directory, profile-visit, csv or http-enrichment' },
);
export type CreateSourceAccountBody = z.output<typeof createSourceAccountBody>;

/** Only what is given changes; a `config` replaces the whole config (checked against the account’s kind). */
export const patchSourceAccountBody = z.strictObject({
  name: common.name.optional(),
  quotas: quotasSchema.optional(),
  time_zone: timeZoneSchema.optional(),
  config: z.record(z.string(), z.unknown(), 'must be an object').optional(),
});
export type PatchSourceAccountBody = z.output<typeof patchSourceAccountBody>;

export const sourceAccountIdParams = z.object({
  id: z.uuid().meta({ examples: ['0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f'] }),
});

export const SourceAccountSchema = named(
  'SourceAccount',
  z.object({
    id: z.uuid(),
    name: z.string(),
    kind: z.enum(SOURCE_KINDS),
    config: z.record(z.string(), z.unknown()).meta({ description: 'The config without its secret fields.' }),
    secret_fields: z.array(z.string()).meta({
      description: 'Config fields Herald keeps sealed (AES-256-GCM); their values are never returned.',
    }),
    quotas: z.object({
      hourly: z.number().int().nullable(),
      daily: z.number().int().nullable(),
      weekly: z.number().int().nullable(),
    }),
    time_zone: z.string(),
    status: z.enum(SOURCE_ACCOUNT_STATUSES),
    created_at: iso,
    updated_at: iso,
  }),
);
export const SourceAccountListSchema = component(
  'SourceAccountList',
  z.object({ data: z.array(SourceAccountSchema), next_cursor: z.string().nullable() }),
);

export const EXAMPLE_SOURCE_ACCOUNT = {
  id: '0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f',
  name: 'Local directory',
  kind: 'http-directory',
  config: { base_url: 'https://directory.example.com/v1/search', pagination: 'cursor', page_size: 50 },
  secret_fields: ['api_key'],
  quotas: { hourly: 600, daily: 5000, weekly: null },
  time_zone: 'Europe/Paris',
  status: 'active',
  created_at: '2026-12-01T10:15:00.000Z',
  updated_at: '2026-12-01T10:15:00.000Z',
};

export const EXAMPLE_SOURCE_ACCOUNT_INPUT = {
  name: 'Local directory',
  kind: 'http-directory',
  config: { base_url: 'https://directory.example.com/v1/search', api_key: 'dk_live_4fR8sT1uV6wX0yZ2' },
  quotas: { hourly: 600, daily: 5000 },
  time_zone: 'Europe/Paris',
};

export function sourceAccountView(a: SourceAccountRecord) {
  return {
    id: a.id,
    name: a.name,
    kind: a.kind,
    config: a.settings,
    secret_fields: [...SECRET_SOURCE_FIELDS[a.kind]],
    quotas: { ...a.quotas },
    time_zone: a.timeZone,
    status: a.status,
    created_at: a.createdAt.toISOString(),
    updated_at: a.updatedAt.toISOString(),
  };
}
