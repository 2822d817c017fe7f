import {
  ENROLLMENT_STATUSES,
  enrollmentRequestSchema,
  type EnrollmentRecord,
  type EnrollResult,
} from '@herald/sequences';
import { z } from 'zod';
import { named } from '../http/openapi';
import { pageQuery } from '../tenants/tenants.schemas';

const iso = z.string().meta({ format: 'date-time' });

export const enrollBody = enrollmentRequestSchema;

export const enrollmentParams = z.object({
  id: z.uuid().meta({ examples: ['0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f'] }),
  contact_id: z.uuid().meta({ examples: ['0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f'] }),
});

export const enrollmentListQuery = pageQuery.extend({
  status: z
    .enum(ENROLLMENT_STATUSES, { error: `must be one of ${ENROLLMENT_STATUSES.join(', ')}` })
    .optional()
    .meta({ description: 'Only enrollments in this status.', examples: ['active'] }),
});

export const EnrollResultSchema = named(
  'EnrollmentResult',
  z.object({
    enrolled: z.number().int().meta({ description: 'Contacts enrolled by this request.' }),
    already_enrolled: z
      .number()
      .int()
      .meta({ description: 'Contacts that were enrolled before (whatever their status): left as they are.' }),
    not_found: z.array(z.uuid()).meta({
      description:
        '`contact_ids` that name no active contact of the tenant (unknown, unsubscribed, bounced or archived).',
    }),
  }),
);

export const EnrollmentSchema = named(
  'Enrollment',
  z.object({
    id: z.uuid(),
    campaign_id: z.uuid(),
    contact_id: z.uuid(),
    status: z.enum(ENROLLMENT_STATUSES),
    stop_reason: z.string().nullable().meta({
      description:
        'Why a stopped (or replied) enrollment ended: reply, bounce, unsubscribe, removed, campaign archived, delivery failed|skipped|cancelled.',
    }),
    current_step: z.number().int().meta({
      description: 'Index of the next step to send (the one being sent while next_due_at is null).',
    }),
    next_due_at: iso.nullable().meta({
      description: 'When the next step is due; null while a step is being delivered and once finished.',
    }),
    created_at: iso,
    updated_at: iso,
    finished_at: iso.nullable(),
  }),
);

export const EnrollmentListSchema = named(
  'EnrollmentList',
  z.object({ data: z.array(EnrollmentSchema), next_cursor: z.string().nullable() }),
);

export const EXAMPLE_ENROLLMENT = {
  id: '0190f5e4-aaaa-7c3d-8e4f-5a6b7c8d9e0f',
  campaign_id: '0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f',
  contact_id: '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f',
  status: 'active',
  stop_reason: null,
  current_step: 1,
  next_due_at: '2026-11-25T09:00:00.000Z',
  created_at: '2026-11-22T10:15:00.000Z',
  updated_at: '2026-11-22T10:15:02.000Z',
  finished_at: null,
};

export function enrollResultView(r: EnrollResult) {
  return { enrolled: r.enrolled, already_enrolled: r.alreadyEnrolled, not_found: r.notFound };
}

export function enrollmentView(e: EnrollmentRecord) {
  return {
    id: e.id,
    campaign_id: e.campaignId,
    contact_id: e.contactId,
    status: e.status,
    stop_reason: e.stopReason,
    current_step: e.currentStep,
    next_due_at: e.nextDueAt?.toISOString() ?? null,
    created_at: e.createdAt.toISOString(),
    updated_at: e.updatedAt.toISOString(),
    finished_at: e.finishedAt?.toISOString() ?? null,
  };
}
