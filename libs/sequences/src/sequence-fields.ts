import { audienceSchema, type Audience } from '@herald/campaigns';
import { emailSchema, validateInteractionPayload } from '@herald/contacts';
import { z } from 'zod';

export const ENROLLMENT_STATUSES = ['active', 'completed', 'replied', 'stopped'] as const;
export type EnrollmentStatus = (typeof ENROLLMENT_STATUSES)[number];

export const SEQUENCE_EVENT_TYPES = ['reply', 'bounce', 'unsubscribe', 'complaint'] as const;
export type SequenceEventType = (typeof SEQUENCE_EVENT_TYPES)[number];

export const SEQUENCE_LIMITS = {
  /** Contacts named in one enrollment request (a filter has no limit: it is one statement). */
  contactIds: 1000,
  /** How far ahead of this server's clock an event may say it happened (clock skew). */
  futureSkewMs: 5 * 60_000,
} as const;

const uuid = z.uuid('must be a UUID').transform((id) => id.toLowerCase());

/** Who to enroll: the contacts named, or every active contact matching a filter (the audience shape). */
export const enrollmentRequestSchema = z
  .strictObject({
    contact_ids: z
      .array(uuid)
      .min(1, 'give at least one contact id')
      .max(SEQUENCE_LIMITS.contactIds, `must have at most ${SEQUENCE_LIMITS.contactIds} ids`)
      .transform((ids) => [...new Set(ids)])
      .optional(),
    filter: audienceSchema.optional(),
  })
  .superRefine((body, ctx) => {
    if (body.contact_ids !== undefined && body.filter !== undefined)
      ctx.addIssue({ code: 'custom', path: ['filter'], message: 'give contact_ids or filter, not both' });
    if (body.contact_ids === undefined && body.filter === undefined)
      ctx.addIssue({ code: 'custom', path: ['contact_ids'], message: 'give contact_ids or filter' });
  });
export type EnrollmentRequest = { contactIds: string[] } | { filter: Audience };

/** What an event's payload holds when the caller says nothing more. */
const PAYLOAD_DEFAULTS: Record<SequenceEventType, Record<string, unknown>> = {
  reply: {},
  bounce: { kind: 'hard' },
  unsubscribe: { source: 'api' },
  complaint: { source: 'api' },
};

/** Postgres jsonb cannot store U+0000 in a string. */
function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value && typeof value === 'object') return Object.values(value).some(hasNul);
  return false;
}

/**
 * Something that happened to a contact outside Herald: a reply, a bounce, an unsubscribe. Names
 * the contact by id or by email (exactly one); `payload` is the interaction's payload for the
 * type (as the activity log validates it), with defaults filled in.
 */
export const sequenceEventSchema = z
  .strictObject({
    type: z.enum(SEQUENCE_EVENT_TYPES, { error: `must be one of ${SEQUENCE_EVENT_TYPES.join(', ')}` }),
    contact_id: uuid.optional(),
    email: emailSchema.optional(),
    campaign_id: uuid.optional(),
    occurred_at: z.iso
      .datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone' })
      .refine((v) => new Date(v).getTime() <= Date.now() + SEQUENCE_LIMITS.futureSkewMs, {
        message: 'must not be in the future',
      })
      .optional(),
    payload: z.record(z.string(), z.unknown(), { error: 'must be an object' }).optional(),
  })
  .transform((event, ctx) => {
    if ((event.contact_id === undefined) === (event.email === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['contact_id'],
        message: 'give exactly one of contact_id or email',
      });
      return z.NEVER;
    }
    const raw = { ...PAYLOAD_DEFAULTS[event.type], ...(event.payload ?? {}) };
    if (hasNul(raw)) {
      ctx.addIssue({ code: 'custom', path: ['payload'], message: 'must not contain NUL characters' });
      return z.NEVER;
    }
    const checked = validateInteractionPayload(event.type, raw);
    if (!checked.ok) {
      for (const e of checked.errors)
        ctx.addIssue({
          code: 'custom',
          path: ['payload', ...(e.field ? e.field.split('.') : [])],
          message: e.message,
        });
      return z.NEVER;
    }
    return {
      type: event.type,
      target: (event.contact_id !== undefined
        ? { contactId: event.contact_id }
        : { email: event.email! }) as EventTarget,
      campaignId: event.campaign_id ?? null,
      occurredAt: event.occurred_at ? new Date(event.occurred_at) : null,
      payload: checked.value,
    };
  });
export type EventTarget = { contactId: string; email?: undefined } | { email: string; contactId?: undefined };
export type SequenceEvent = z.output<typeof sequenceEventSchema>;
