import {
  CONTACT_STATUSES,
  contactCreateSchema,
  contactPatchSchema,
  contactStatusSchema,
  emailSchema,
  INTERACTION_TYPES,
  SUPPRESSION_REASONS,
  tagSchema,
  type ContactRecord,
  type ImportSummary,
  type InteractionRecord,
  type SuppressionRecord,
} from '@herald/contacts';
import { z } from 'zod';
import { component, named } from '../http/openapi';
import { pageQuery } from '../tenants/tenants.schemas';

const iso = z.string().meta({ format: 'date-time' });
const isoQuery = (description: string) =>
  z.iso
    .datetime({
      offset: true,
      error: 'must be an ISO 8601 date-time with a time zone, like 2026-01-31T00:00:00Z',
    })
    .optional()
    .meta({ description, examples: ['2026-01-01T00:00:00Z'] });
const oneOrMany = <S extends z.ZodType>(schema: S, max: number, field: string) =>
  z
    .union([schema, z.array(schema).max(max, `give ${field} at most ${max} times`)])
    .transform((v) => (Array.isArray(v) ? v : [v]) as z.output<S>[]);

export const contactBody = contactCreateSchema;
export const contactPatchBody = contactPatchSchema;

export const contactListQuery = pageQuery.extend({
  status: oneOrMany(contactStatusSchema, 4, 'status')
    .optional()
    .meta({
      description: 'Only these statuses (repeat for several). Default: every status but archived.',
      examples: ['active'],
    }),
  tag: oneOrMany(tagSchema, 10, 'tag')
    .optional()
    .meta({ description: 'Contacts with this tag (repeat: with all of them).', examples: ['vip'] }),
  birthday: z
    .string()
    .regex(/^(today|\d{2}-\d{2})$/, 'must be today or MM-DD')
    .optional()
    .meta({
      description:
        'Birthday on this month-day, or `today` in the tenant’s time zone (on 28 February of a common year, today includes 29 February birthdays).',
      examples: ['today'],
    }),
  created_after: isoQuery('Created strictly after this instant.'),
  created_before: isoQuery('Created strictly before this instant.'),
  q: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(100, 'must be at most 100 characters')
    .optional()
    .meta({
      description: 'Case-insensitive prefix of the email or of the full name ("first last").',
      examples: ['ada lov'],
    }),
});

export const contactIdParams = z.object({
  id: z.uuid().meta({ examples: ['0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f'] }),
});

export const ContactSchema = named(
  'Contact',
  z.object({
    id: z.uuid(),
    email: z.string().nullable(),
    external_ref: z.string().nullable(),
    profile_url: z.string().nullable(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    birth_date: z.string().nullable().meta({ format: 'date' }),
    time_zone: z.string().nullable(),
    status: z.enum(CONTACT_STATUSES),
    tags: z.array(z.string()),
    attributes: z.record(z.string(), z.unknown()),
    score: z.number().nullable().meta({ description: 'Set by scoring; read-only.' }),
    tier: z.string().nullable().meta({ description: 'Set by scoring; read-only.' }),
    created_at: iso,
    updated_at: iso,
    archived_at: iso.nullable(),
  }),
);
export const ContactListSchema = component(
  'ContactList',
  z.object({ data: z.array(ContactSchema), next_cursor: z.string().nullable() }),
);

export const ImportResultSchema = named(
  'ImportResult',
  z.object({
    created: z.number().int(),
    updated: z.number().int(),
    failed: z.number().int().meta({ description: 'Rows not imported.' }),
    errors: z
      .array(
        z.object({
          row: z
            .number()
            .int()
            .meta({ description: '1-based data row (the CSV header and JSON brackets are not rows).' }),
          field: z.string(),
          message: z.string(),
        }),
      )
      .meta({ description: 'Why rows failed, by row (at most 10000 entries).' }),
    errors_truncated: z.boolean(),
  }),
);

export const EXAMPLE_CONTACT = {
  id: '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f',
  email: 'ada@example.com',
  external_ref: 'crm-1815',
  profile_url: 'https://example.com/in/ada',
  first_name: 'Ada',
  last_name: 'Lovelace',
  birth_date: '1985-12-10',
  time_zone: 'Europe/London',
  status: 'active',
  tags: ['vip', 'newsletter'],
  attributes: { plan: 'pro', seats: 12 },
  score: null,
  tier: null,
  created_at: '2026-11-22T10:15:00.000Z',
  updated_at: '2026-11-22T10:15:00.000Z',
  archived_at: null,
};

export function contactView(c: ContactRecord) {
  return {
    id: c.id,
    email: c.email,
    external_ref: c.externalRef,
    profile_url: c.profileUrl,
    first_name: c.firstName,
    last_name: c.lastName,
    birth_date: c.birthDate,
    time_zone: c.timeZone,
    status: c.status,
    tags: c.tags,
    attributes: c.attributes,
    score: c.score,
    tier: c.tier,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
    archived_at: c.archivedAt?.toISOString() ?? null,
  };
}

export function importView(s: ImportSummary) {
  return {
    created: s.created,
    updated: s.updated,
    failed: s.failed,
    errors: s.errors,
    errors_truncated: s.errorsTruncated,
  };
}

// Interactions

const uuidQuery = (description: string) =>
  z
    .uuid('must be a UUID')
    .optional()
    .meta({ description, examples: ['0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f'] });

export const interactionListQuery = pageQuery.extend({
  contact_id: uuidQuery('Only this contact’s interactions.'),
  type: z
    .enum(INTERACTION_TYPES, { error: `must be one of ${INTERACTION_TYPES.join(', ')}` })
    .optional()
    .meta({ examples: ['reply'] }),
  from: isoQuery('Created at or after this instant.'),
  to: isoQuery('Created before this instant.'),
});

export const createNoteBody = z.strictObject({
  contact_id: z.uuid('must be a UUID').meta({ examples: ['0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f'] }),
  type: z.literal('note', { error: 'must be note (other types are recorded by Herald itself)' }),
  payload: z.unknown().meta({
    description: 'For a note: `{ "text": "…" }` (1 to 5000 characters).',
    examples: [{ text: 'Met at the conference.' }],
  }),
});

export const InteractionSchema = named(
  'Interaction',
  z.object({
    id: z.uuid(),
    contact_id: z.uuid(),
    type: z.enum(INTERACTION_TYPES),
    payload: z.record(z.string(), z.unknown()).meta({
      description:
        'Shape by type — delivery_sent: {delivery_id, campaign_id, run_id?, channel, provider_message_id?}; delivery_failed: {delivery_id, campaign_id, run_id?, channel, error, permanent}; reply: {delivery_id?, subject?, text?, received_at?}; bounce: {delivery_id?, kind: hard|soft, reason?}; unsubscribe: {delivery_id?, source: link|reply|api|manual}; note: {text}.',
    }),
    created_at: iso,
  }),
);
export const InteractionListSchema = component(
  'InteractionList',
  z.object({ data: z.array(InteractionSchema), next_cursor: z.string().nullable() }),
);

export const EXAMPLE_INTERACTION = {
  id: '0190f5e5-0000-7c3d-8e4f-5a6b7c8d9e0f',
  contact_id: EXAMPLE_CONTACT.id,
  type: 'note',
  payload: { text: 'Met at the conference.' },
  created_at: '2026-11-22T10:20:00.000Z',
};

export function interactionView(i: InteractionRecord) {
  return {
    id: i.id,
    contact_id: i.contactId,
    type: i.type,
    payload: i.payload,
    created_at: i.createdAt.toISOString(),
  };
}

// Suppressions

export const createSuppressionBody = z
  .strictObject({
    email: emailSchema.optional().meta({ examples: ['ada@example.com'] }),
    contact_id: z.uuid('must be a UUID').optional(),
    reason: z.enum(SUPPRESSION_REASONS, { error: `must be one of ${SUPPRESSION_REASONS.join(', ')}` }),
    note: z.string().trim().max(500, 'must be at most 500 characters').optional(),
  })
  .refine((v) => (v.email === undefined) !== (v.contact_id === undefined), {
    message: 'give exactly one of email or contact_id',
    path: ['email'],
  });

export const suppressionListQuery = pageQuery.extend({
  email: emailSchema.optional().meta({ description: 'Only the suppression of this address.' }),
  contact_id: uuidQuery('Only the suppression of this contact.'),
  reason: z
    .enum(SUPPRESSION_REASONS, { error: `must be one of ${SUPPRESSION_REASONS.join(', ')}` })
    .optional(),
});

export const suppressionIdParams = contactIdParams;

export const SuppressionSchema = named(
  'Suppression',
  z.object({
    id: z.uuid(),
    email: z.string().nullable(),
    contact_id: z.uuid().nullable(),
    reason: z.enum(SUPPRESSION_REASONS),
    note: z.string().nullable(),
    created_at: iso,
  }),
);
export const SuppressionListSchema = component(
  'SuppressionList',
  z.object({ data: z.array(SuppressionSchema), next_cursor: z.string().nullable() }),
);

export const EXAMPLE_SUPPRESSION = {
  id: '0190f5e6-0000-7c3d-8e4f-5a6b7c8d9e0f',
  email: 'ada@example.com',
  contact_id: null,
  reason: 'unsubscribe',
  note: null,
  created_at: '2026-11-22T10:25:00.000Z',
};

export function suppressionView(s: SuppressionRecord) {
  return {
    id: s.id,
    email: s.email,
    contact_id: s.contactId,
    reason: s.reason,
    note: s.note,
    created_at: s.createdAt.toISOString(),
  };
}
