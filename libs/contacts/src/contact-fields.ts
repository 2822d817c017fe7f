import { canonicalTimeZone, isValidTimeZone } from '@herald/time';
import { z } from 'zod';

/**
 * Contact fields as they travel on the wire (snake_case), validated and normalised once here for
 * the API, the bulk import and anything else that writes contacts.
 */
export const CONTACT_STATUSES = ['active', 'unsubscribed', 'bounced', 'archived'] as const;
export type ContactStatus = (typeof CONTACT_STATUSES)[number];
export const LIMITS = {
  email: 254,
  externalRef: 255,
  profileUrl: 2048,
  name: 100,
  tags: 50,
  tag: 64,
  attributeKeys: 100,
  attributeKey: 64,
  /** Serialised JSON size of `attributes`. */
  attributesBytes: 16_384,
} as const;

const NO_CONTROL = /^[^\p{Cc}]*$/u;

/**
 * An IANA zone, canonicalised. Canonicalising builds an Intl.DateTimeFormat (tens of µs): the
 * answers are memoised, since an import repeats the same few zones on every row.
 */
const canonicalZones = new Map<string, string>();
export const timeZoneSchema = z
  .string()
  .refine(isValidTimeZone, 'must be an IANA time zone name such as Europe/Paris')
  .transform((zone) => {
    let canonical = canonicalZones.get(zone);
    if (canonical === undefined) {
      canonical = canonicalTimeZone(zone);
      if (canonicalZones.size < 10_000) canonicalZones.set(zone, canonical);
    }
    return canonical;
  });

/** Trimmed text without control characters, 1..max characters. */
export const plainText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(NO_CONTROL, 'must not contain control characters');

export const emailSchema = z
  .string()
  .trim()
  .max(LIMITS.email, `must be at most ${LIMITS.email} characters`)
  .pipe(z.email('must be an email address'))
  .transform((v) => v.toLowerCase());

export const externalRefSchema = plainText(LIMITS.externalRef);

export const profileUrlSchema = z
  .string()
  .trim()
  .max(LIMITS.profileUrl, `must be at most ${LIMITS.profileUrl} characters`)
  .pipe(z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }));

export const nameSchema = plainText(LIMITS.name);

const BIRTH_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
export const birthDateSchema = z.string().refine((value) => {
  const match = BIRTH_DATE.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    year >= 1900 &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getTime() <= Date.now()
  );
}, 'must be a past calendar date YYYY-MM-DD from 1900 on');

export const contactStatusSchema = z.enum(CONTACT_STATUSES, {
  error: `must be one of ${CONTACT_STATUSES.join(', ')}`,
});

export const tagSchema = plainText(LIMITS.tag);
export const tagsSchema = z
  .array(tagSchema)
  .max(LIMITS.tags, `must have at most ${LIMITS.tags} tags`)
  .transform((tags) => [...new Set(tags)]);

export const attributesSchema = z
  .record(
    z
      .string()
      .min(1, 'attribute names must not be empty')
      .max(LIMITS.attributeKey, `attribute names must be at most ${LIMITS.attributeKey} characters`),
    z.json(),
  )
  .refine((value) => Object.keys(value).length <= LIMITS.attributeKeys, {
    message: `must have at most ${LIMITS.attributeKeys} attributes`,
  })
  .refine((value) => Buffer.byteLength(JSON.stringify(value)) <= LIMITS.attributesBytes, {
    message: `must be at most ${LIMITS.attributesBytes} bytes as JSON`,
  });

export type Attributes = Record<string, z.core.util.JSONType>;

/** What a writer may set on a contact (ids, tenant, score, tier and timestamps never come from a body). */
export interface ContactFields {
  email: string | null;
  externalRef: string | null;
  profileUrl: string | null;
  firstName: string | null;
  lastName: string | null;
  birthDate: string | null;
  timeZone: string | null;
  status: ContactStatus;
  tags: string[];
  /** Replaces on create; on update, merged key by key (a null value removes the key). */
  attributes: Attributes;
}

const wireShape = {
  email: emailSchema.nullable(),
  external_ref: externalRefSchema.nullable(),
  profile_url: profileUrlSchema.nullable(),
  first_name: nameSchema.nullable(),
  last_name: nameSchema.nullable(),
  birth_date: birthDateSchema.nullable(),
  time_zone: timeZoneSchema.nullable(),
  status: contactStatusSchema,
  tags: tagsSchema,
  attributes: attributesSchema,
};

type WireOutput = { [K in keyof typeof wireShape]?: z.output<(typeof wireShape)[K]> };

/** A partial set of fields: what a body gave, camelCased. Absent keys stay absent. */
export type ContactChanges = Partial<ContactFields>;

export function toChanges(wire: WireOutput): ContactChanges {
  const out: ContactChanges = {};
  if (wire.email !== undefined) out.email = wire.email;
  if (wire.external_ref !== undefined) out.externalRef = wire.external_ref;
  if (wire.profile_url !== undefined) out.profileUrl = wire.profile_url;
  if (wire.first_name !== undefined) out.firstName = wire.first_name;
  if (wire.last_name !== undefined) out.lastName = wire.last_name;
  if (wire.birth_date !== undefined) out.birthDate = wire.birth_date;
  if (wire.time_zone !== undefined) out.timeZone = wire.time_zone;
  if (wire.status !== undefined) out.status = wire.status;
  if (wire.tags !== undefined) out.tags = wire.tags;
  if (wire.attributes !== undefined) out.attributes = wire.attributes;
  return out;
}

const identified = (v: { email?: string | null; external_ref?: string | null }) =>
  (v.email !== undefined && v.email !== null) || (v.external_ref !== undefined && v.external_ref !== null);
const IDENTITY_MESSAGE = 'a contact needs an email or an external_ref';

/** POST /v1/contacts and each import row: unknown fields are refused; email or external_ref is required. */
export const contactCreateSchema = z
  .strictObject(wireShape)
  .partial()
  .refine(identified, { message: IDENTITY_MESSAGE, path: ['email'] });

/** PATCH /v1/contacts/:id: any subset of the fields; null clears a nullable field. */
export const contactPatchSchema = z
  .strictObject(wireShape)
  .partial()
  .extend({
    attributes: z
      .record(z.string().min(1).max(LIMITS.attributeKey), z.json().nullable())
      .refine((value) => Object.keys(value).length <= LIMITS.attributeKeys, {
        message: `must have at most ${LIMITS.attributeKeys} attributes`,
      })
      .optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'give at least one field to change', path: [] });

export type ContactCreateInput = z.output<typeof contactCreateSchema>;
export type ContactPatchInput = z.output<typeof contactPatchSchema>;
