import { plainText } from '@herald/contacts';
import {
  RULE_OPS,
  scoringVersionBody,
  type ScoringModelRecord,
  type ScoringVersionRecord,
} from '@herald/sourcing';
import { z } from 'zod';
import { component, named } from '../../http/openapi';

const iso = z.string().meta({ format: 'date-time' });

export const createScoringModelBody = scoringVersionBody.extend({
  name: plainText(100).meta({ description: 'What the model is for.', examples: ['Local trades'] }),
});
export type CreateScoringModelBody = z.output<typeof createScoringModelBody>;
export { scoringVersionBody };

export const scoringModelIdParams = z.object({
  id: z.uuid().meta({ examples: ['0190f5e4-5555-7c3d-8e4f-5a6b7c8d9e0f'] }),
});
export const scoringVersionParams = scoringModelIdParams.extend({
  version: z
    .string()
    .regex(/^\d{1,9}$/, 'must be a version number')
    .meta({ examples: ['2'] }),
});

const ruleView = z
  .object({
    name: z.string(),
    field: z.string(),
    op: z.enum(RULE_OPS),
    points: z.number().int(),
    value: z.unknown().optional(),
    values: z.array(z.unknown()).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
  })
  .meta({
    description:
      'Adds `points` (negative subtracts) when the candidate field at `field` (a dotted path: `assessment.https`, `enrichment.employees`, `category`) matches: equals `value`, is one of `values`, lies in [`min`, `max`], exists, or contains `value`.',
  });

export const ScoringVersionSchema = named(
  'ScoringModelVersion',
  z.object({
    model_id: z.uuid(),
    version: z.number().int(),
    rules: z.array(ruleView),
    tiers: z
      .object({ A: z.number().int(), B: z.number().int(), C: z.number().int() })
      .meta({ description: 'Minimum score per tier; below C is D.' }),
    created_at: iso,
  }),
);

export const ScoringModelSchema = named(
  'ScoringModel',
  z.object({
    id: z.uuid(),
    name: z.string(),
    current_version: z.number().int(),
    current: ScoringVersionSchema.meta({ description: 'The current version: what new runs score with.' }),
    created_at: iso,
    updated_at: iso,
  }),
);

export const ScoringModelListSchema = component(
  'ScoringModelList',
  z.object({
    data: z.array(
      z.object({
        id: z.uuid(),
        name: z.string(),
        current_version: z.number().int(),
        created_at: iso,
        updated_at: iso,
      }),
    ),
    next_cursor: z.string().nullable(),
  }),
);

export function versionView(v: ScoringVersionRecord) {
  return {
    model_id: v.modelId,
    version: v.version,
    rules: v.rules,
    tiers: v.tiers,
    created_at: v.createdAt.toISOString(),
  };
}

export function modelSummaryView(m: ScoringModelRecord) {
  return {
    id: m.id,
    name: m.name,
    current_version: m.currentVersion,
    created_at: m.createdAt.toISOString(),
    updated_at: m.updatedAt.toISOString(),
  };
}

export function modelView(m: ScoringModelRecord, current: ScoringVersionRecord) {
  const { created_at, updated_at, ...rest } = modelSummaryView(m);
  return { ...rest, current: versionView(current), created_at, updated_at };
}

export const EXAMPLE_RULES = [
  { name: 'HTTPS', field: 'assessment.https', op: 'equals', value: true, points: 20 },
  { name: 'mobile viewport', field: 'assessment.viewport', op: 'equals', value: true, points: 15 },
  { name: 'TTFB > 2 s', field: 'assessment.ttfb_ms', op: 'range', min: 2000, points: -10 },
  { name: 'email on site', field: 'assessment.email_found', op: 'equals', value: true, points: 10 },
];
export const EXAMPLE_TIERS = { A: 40, B: 25, C: 10 };
export const EXAMPLE_VERSION = {
  model_id: '0190f5e4-5555-7c3d-8e4f-5a6b7c8d9e0f',
  version: 1,
  rules: EXAMPLE_RULES,
  tiers: EXAMPLE_TIERS,
  created_at: '2026-12-07T09:00:00.000Z',
};
export const EXAMPLE_MODEL = {
  id: '0190f5e4-5555-7c3d-8e4f-5a6b7c8d9e0f',
  name: 'Local trades',
  current_version: 1,
  current: EXAMPLE_VERSION,
  created_at: '2026-12-07T09:00:00.000Z',
  updated_at: '2026-12-07T09:00:00.000Z',
};
