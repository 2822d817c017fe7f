import { scheduleSchema } from '@herald/campaigns';
import { z } from 'zod';

export const TIERS = ['A', 'B', 'C', 'D'] as const;
export type Tier = (typeof TIERS)[number];
export const HANDOFF_ACTIONS = ['contact', 'enroll', 'hold', 'reject'] as const;
export type HandoffAction = (typeof HANDOFF_ACTIONS)[number];

const handoffRule = z
  .strictObject({
    action: z.enum(HANDOFF_ACTIONS, 'must be contact, enroll, hold or reject'),
    campaign_id: z.uuid('must be a campaign id').optional(),
  })
  .superRefine((rule, ctx) => {
    if (rule.action === 'enroll' && !rule.campaign_id)
      ctx.addIssue({
        code: 'custom',
        path: ['campaign_id'],
        message: 'is required to enroll (a sequence campaign)',
      });
    if (rule.action !== 'enroll' && rule.campaign_id)
      ctx.addIssue({ code: 'custom', path: ['campaign_id'], message: 'only goes with action enroll' });
  });

/** Per tier what hand-off does (as qualifying's handoffActionSchema): create/update the contact, enrol it in a sequence, hold for review, or reject. */
export const handoffSchema = z.partialRecord(z.enum(TIERS, 'tiers are A, B, C and D'), handoffRule);
export type Handoff = z.output<typeof handoffSchema>;

const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const limit = z
  .number('must be a number')
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(1_000_000, 'must be at most 1000000');
/** Checked against the account's connector when the job is written (a 400 names `criteria.<field>`). */
const criteria = z.record(z.string(), z.unknown(), 'must be an object');

export const sourcingJobCreateSchema = z.strictObject({
  name,
  source_account_id: z.uuid('must be a source account id'),
  criteria: criteria.default({}),
  limit,
  schedule: scheduleSchema.optional(),
  scoring_model_id: z.uuid('must be a scoring model id'),
  handoff: handoffSchema.default({}),
});
export type SourcingJobCreateInput = z.output<typeof sourcingJobCreateSchema>;

/** Only the fields given change; `schedule: null` unschedules. The source account never changes. */
export const sourcingJobPatchSchema = z.strictObject({
  name: name.optional(),
  criteria: criteria.optional(),
  limit: limit.optional(),
  schedule: scheduleSchema.nullable().optional(),
  scoring_model_id: z.uuid('must be a scoring model id').optional(),
  handoff: handoffSchema.optional(),
});
export type SourcingJobPatchInput = z.output<typeof sourcingJobPatchSchema>;
