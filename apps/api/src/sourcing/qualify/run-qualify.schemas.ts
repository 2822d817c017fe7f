import { handoffActionSchema, SOURCING_RUN_STATUSES } from '@herald/sourcing';
import { z } from 'zod';
import { component } from '../../http/openapi';

export const sourcingRunIdParams = z.object({
  id: z.uuid().meta({ examples: ['0190f5e4-4444-7c3d-8e4f-5a6b7c8d9e0f'] }),
});

export const rescoreBody = z.strictObject({
  version: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .optional()
    .meta({ description: "A version of the run's scoring model; default: its current version." }),
});

const candidateIds = z
  .array(z.uuid('must be a candidate id'))
  .min(1, 'must list at least one candidate')
  .max(500, 'must list at most 500 candidates')
  .transform((ids) => [...new Set(ids.map((id) => id.toLowerCase()))]);

export const approveBody = z.strictObject({
  candidate_ids: candidateIds,
  handoff: handoffActionSchema.optional().meta({
    description:
      "What to do with them instead of their tier's hand-off: `contact`, or `enroll` with `campaign_id` (a tier whose hand-off is `hold` becomes `contact`).",
  }),
});

export const rejectBody = z.strictObject({
  candidate_ids: candidateIds,
  reason: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .meta({ description: 'Recorded on each; default `rejected_by_user`.' }),
});

export const RescoreResultSchema = component(
  'RescoreResult',
  z.object({ run_id: z.uuid(), version: z.number().int(), rescored: z.number().int() }),
);

export const CandidateDecisionSchema = component(
  'CandidateDecisions',
  z.object({
    done: z.array(
      z.object({
        id: z.uuid(),
        stage: z.enum(['handed_off', 'rejected']),
        contact_id: z.uuid().nullable(),
        enrollment_id: z.uuid().nullable(),
      }),
    ),
    skipped: z.array(z.object({ id: z.uuid(), reason: z.string() })).meta({
      description: 'Candidates left as they were, and why: `not_found`, `not_held`, `stage_handed_off`…',
    }),
  }),
);

export const requalifyBody = z.strictObject({
  candidate_ids: z
    .array(z.uuid('must be a candidate id'))
    .min(1, 'must list at least one candidate')
    .max(1000, 'must list at most 1000 candidates')
    .transform((ids) => [...new Set(ids.map((id) => id.toLowerCase()))])
    .optional()
    .meta({
      description: 'The candidates to requalify; absent: every candidate of the run closed as not qualified.',
    }),
});

export const RequalifyResultSchema = component(
  'RequalifyResult',
  z.object({
    run_id: z.uuid(),
    status: z.enum(SOURCING_RUN_STATUSES).meta({
      description: 'The run’s status after: a completed run with candidates put back is `running` again.',
    }),
    requalified: z
      .array(z.object({ id: z.uuid(), stage: z.enum(['discovered', 'assessed', 'enriched', 'scored']) }))
      .meta({ description: 'Each candidate put back, at the stage its stored facts show it reached.' }),
    skipped: z.array(z.object({ id: z.uuid(), reason: z.string() })).meta({
      description:
        'Candidates left as they were, and why: `not_found`, `other_run` (a candidate of another run), `stage_<stage>` (not rejected), `not_closed_as_not_qualified` (rejected by a person, by its tier, or a failed visit: that stands).',
    }),
  }),
);
