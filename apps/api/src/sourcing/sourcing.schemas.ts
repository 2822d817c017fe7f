import {
  CANDIDATE_STAGES,
  SOURCING_RUN_STATUSES,
  TIERS,
  type CandidateRecord,
  type SourcingJobRecord,
  type SourcingRunRecord,
} from '@herald/sourcing';
import { z } from 'zod';
import { component, named } from '../http/openapi';
import { limitParam } from '../tenants/tenants.schemas';

const iso = z.string().meta({ format: 'date-time' });
const cursor = z.string().max(200).optional().meta({ description: '`next_cursor` of the previous page.' });

export const idParams = z.object({
  id: z.uuid().meta({ examples: ['0190f5e4-9999-7c3d-8e4f-5a6b7c8d9e0f'] }),
});

export const jobListQuery = z.strictObject({
  limit: limitParam(1000, 'Page size, 1 to 1000 (default 50).', '50'),
  cursor,
  status: z.enum(['active', 'archived'], 'must be active or archived').optional(),
});

export const runListQuery = z.strictObject({
  limit: limitParam(1000, 'Page size, 1 to 1000 (default 50).', '50'),
  cursor,
  job_id: z.uuid('must be a sourcing job id').optional(),
  status: z.enum(SOURCING_RUN_STATUSES, `must be one of ${SOURCING_RUN_STATUSES.join(', ')}`).optional(),
});

export const candidateListQuery = z.strictObject({
  limit: limitParam(1000, 'Page size, 1 to 1000 (default 50).', '50'),
  cursor,
  stage: z.enum(CANDIDATE_STAGES, `must be one of ${CANDIDATE_STAGES.join(', ')}`).optional(),
  tier: z.enum(TIERS, 'must be A, B, C or D').optional(),
});

export const startSourcingRunBody = z
  .strictObject({ dry_run: z.boolean('must be true or false').optional() })
  .optional();

export const SourcingJobSchema = named(
  'SourcingJob',
  z.object({
    id: z.uuid(),
    name: z.string(),
    source_account_id: z.uuid(),
    criteria: z.record(z.string(), z.unknown()),
    limit: z.number().int(),
    schedule: z.record(z.string(), z.unknown()).nullable(),
    scoring_model_id: z.uuid(),
    handoff: z.record(z.string(), z.unknown()),
    status: z.enum(['active', 'archived']),
    created_at: iso,
    updated_at: iso,
  }),
);
export const SourcingJobListSchema = component(
  'SourcingJobList',
  z.object({ data: z.array(SourcingJobSchema), next_cursor: z.string().nullable() }),
);

export const SourcingRunSchema = named(
  'SourcingRun',
  z.object({
    id: z.uuid(),
    job_id: z.uuid(),
    trigger: z.enum(['schedule', 'manual', 'rescore']),
    dry_run: z.boolean(),
    status: z.enum(SOURCING_RUN_STATUSES),
    scheduled_for: z.string().nullable(),
    scoring_model_id: z.uuid(),
    scoring_model_version: z.number().int(),
    limit: z.number().int(),
    exhausted: z.boolean().meta({ description: 'The search has no more results.' }),
    discovered: z.number().int(),
    duplicates: z.number().int(),
    requests_spent: z
      .number()
      .int()
      .meta({ description: 'Search requests or visits charged to the account’s quota.' }),
    stages: z.record(z.string(), z.number().int()).meta({ description: 'The run’s candidates per stage.' }),
    not_qualified: z.number().int().meta({
      description:
        'Of the rejected, those closed as not qualified (their qualify job kept failing or was lost): `POST /v1/sourcing-runs/{id}/candidates/requalify` puts them back.',
    }),
    rate_per_second: z.number(),
    eta: iso.nullable(),
    eta_reason: z.enum(['quota', 'rate']).nullable(),
    reason: z.string().nullable().meta({ description: 'Why the run waits or stopped.' }),
    error: z.string().nullable().meta({ description: 'The last failure (a failed run can be resumed).' }),
    forecast: z.record(z.string(), z.unknown()).nullable(),
    created_at: iso,
    started_at: iso.nullable(),
    finished_at: iso.nullable(),
    last_progress_at: iso.nullable(),
  }),
);
export const SourcingRunListSchema = component(
  'SourcingRunList',
  z.object({ data: z.array(SourcingRunSchema), next_cursor: z.string().nullable() }),
);

export const CandidateSchema = named(
  'Candidate',
  z.object({
    id: z.uuid(),
    run_id: z.uuid(),
    stage: z.enum(CANDIDATE_STAGES),
    held: z.boolean(),
    name: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    website: z.string().nullable(),
    website_domain: z.string().nullable(),
    profile_url: z.string().nullable(),
    external_id: z.string().nullable(),
    category: z.string().nullable(),
    address: z.record(z.string(), z.unknown()).nullable(),
    facts: z.record(z.string(), z.unknown()),
    source: z.object({ account_id: z.uuid(), key: z.string(), raw_hash: z.string() }),
    duplicate_of: z.record(z.string(), z.unknown()).nullable(),
    score: z.number().int().nullable(),
    tier: z.string().nullable(),
    scoring_model_version: z.number().int().nullable(),
    explain: z.unknown(),
    reason: z.string().nullable(),
    contact_id: z.uuid().nullable(),
    enrollment_id: z.uuid().nullable(),
    created_at: iso,
    updated_at: iso,
  }),
);
export const CandidateListSchema = component(
  'CandidateList',
  z.object({ data: z.array(CandidateSchema), next_cursor: z.string().nullable() }),
);

export const EXAMPLE_SOURCING_JOB = {
  id: '0190f5e4-9999-7c3d-8e4f-5a6b7c8d9e0f',
  name: 'Bakeries in Lyon',
  source_account_id: '0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f',
  criteria: { category: 'bakery', city: 'Lyon' },
  limit: 500,
  schedule: { at: '06:00', days: ['mon'] },
  scoring_model_id: '0190f5e4-aaaa-7c3d-8e4f-5a6b7c8d9e0f',
  handoff: {
    A: { action: 'enroll', campaign_id: '0190f5e4-bbbb-7c3d-8e4f-5a6b7c8d9e0f' },
    B: { action: 'hold' },
  },
  status: 'active',
  created_at: '2026-12-01T10:15:00.000Z',
  updated_at: '2026-12-01T10:15:00.000Z',
};

export const EXAMPLE_SOURCING_RUN = {
  id: '0190f5e4-cccc-7c3d-8e4f-5a6b7c8d9e0f',
  job_id: EXAMPLE_SOURCING_JOB.id,
  trigger: 'manual',
  dry_run: false,
  status: 'running',
  scheduled_for: null,
  scoring_model_id: EXAMPLE_SOURCING_JOB.scoring_model_id,
  scoring_model_version: 3,
  limit: 500,
  exhausted: false,
  discovered: 150,
  duplicates: 12,
  requests_spent: 4,
  stages: {
    discovered: 40,
    duplicate: 12,
    assessed: 10,
    enriched: 0,
    scored: 60,
    handed_off: 40,
    rejected: 0,
  },
  not_qualified: 0,
  rate_per_second: 2.5,
  eta: '2026-12-01T10:21:00.000Z',
  eta_reason: 'rate',
  reason: null,
  error: null,
  forecast: null,
  created_at: '2026-12-01T10:15:00.000Z',
  started_at: '2026-12-01T10:15:01.000Z',
  finished_at: null,
  last_progress_at: '2026-12-01T10:18:00.000Z',
};

export function sourcingJobView(j: SourcingJobRecord) {
  return {
    id: j.id,
    name: j.name,
    source_account_id: j.sourceAccountId,
    criteria: j.criteria,
    limit: j.limit,
    schedule: j.schedule,
    scoring_model_id: j.scoringModelId,
    handoff: j.handoff,
    status: j.status,
    created_at: j.createdAt.toISOString(),
    updated_at: j.updatedAt.toISOString(),
  };
}

export function sourcingRunView(r: SourcingRunRecord) {
  return {
    id: r.id,
    job_id: r.jobId,
    trigger: r.trigger,
    dry_run: r.dryRun,
    status: r.status,
    scheduled_for: r.scheduledFor,
    scoring_model_id: r.scoringModelId,
    scoring_model_version: r.scoringModelVersion,
    limit: r.limit,
    exhausted: r.exhausted,
    discovered: r.discovered,
    duplicates: r.duplicates,
    requests_spent: r.requestsSpent,
    stages: r.stages,
    not_qualified: r.notQualified,
    rate_per_second: Math.round(r.ratePerSecond * 100) / 100,
    eta: r.eta?.toISOString() ?? null,
    eta_reason: r.etaReason,
    reason: r.reason,
    error: r.error,
    forecast: r.forecast as Record<string, unknown> | null,
    created_at: r.createdAt.toISOString(),
    started_at: r.startedAt?.toISOString() ?? null,
    finished_at: r.finishedAt?.toISOString() ?? null,
    last_progress_at: r.lastProgressAt?.toISOString() ?? null,
  };
}

export function candidateView(c: CandidateRecord) {
  return {
    id: c.id,
    run_id: c.runId,
    stage: c.stage,
    held: c.held,
    name: c.name,
    email: c.email,
    phone: c.phone,
    website: c.website,
    website_domain: c.websiteDomain,
    profile_url: c.profileUrl,
    external_id: c.externalId,
    category: c.category,
    address: c.address,
    facts: c.facts,
    source: { account_id: c.sourceAccountId, key: c.sourceKey, raw_hash: c.rawHash },
    duplicate_of: c.duplicateOf,
    score: c.score,
    tier: c.tier,
    scoring_model_version: c.scoringModelVersion,
    explain: c.explain,
    reason: c.reason,
    contact_id: c.contactId,
    enrollment_id: c.enrollmentId,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}
