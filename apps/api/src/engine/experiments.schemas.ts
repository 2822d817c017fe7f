import { EXPERIMENT_METRICS } from '@herald/deliveries';
import type { ExperimentResult } from '@herald/engagement';
import { z } from 'zod';
import { component, named } from '../http/openapi';

const iso = z.string().meta({ format: 'date-time' });

export const experimentStepParams = z.object({
  id: z.uuid().meta({ examples: ['0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f'] }),
  step: z.string().meta({ description: 'The step’s index (0 for the first).', examples: ['0'] }),
});

export const promoteBody = z.strictObject({
  variant: z.string().min(1, 'must not be empty').max(40, 'must be at most 40 characters'),
});

const VariantResultSchema = z.object({
  name: z.string(),
  weight: z.number().int(),
  sent: z.number().int(),
  replied: z.number().int(),
  clicked: z.number().int(),
  converted: z.number().int(),
  rate: z.number().nullable().meta({ description: 'The metric’s successes over sends.' }),
  z: z.number().nullable().meta({ description: 'The leader against this variant (null for the leader).' }),
  p: z.number().nullable().meta({ description: 'Two-sided p-value of that test.' }),
});

export const ExperimentSchema = named(
  'Experiment',
  z.object({
    step: z.number().int(),
    metric: z.enum(EXPERIMENT_METRICS),
    min_sample: z.number().int(),
    confidence: z.number(),
    auto_promote: z.boolean(),
    variants: z.array(VariantResultSchema),
    leader: z.string().nullable(),
    winner: z
      .string()
      .nullable()
      .meta({ description: 'The variant the test called (kept once called), null while none is.' }),
    decided_at: iso.nullable(),
    pending: z.string().nullable().meta({ description: 'Why no winner is called yet.' }),
    promoted: z
      .object({ variant: z.string(), by: z.enum(['auto', 'manual']), at: iso })
      .nullable()
      .meta({ description: 'The variant every later delivery of the step gets.' }),
  }),
);
export const ExperimentListSchema = component(
  'ExperimentList',
  z.object({ data: z.array(ExperimentSchema) }),
);

export function experimentView(r: ExperimentResult) {
  const counted = new Map(r.verdict.variants.map((v) => [v.variant, v]));
  return {
    step: r.step,
    metric: r.settings.metric,
    min_sample: r.settings.min_sample,
    confidence: r.settings.confidence,
    auto_promote: r.settings.auto_promote,
    variants: r.variants.map((v) => {
      const c = counted.get(v.name);
      return {
        name: v.name,
        weight: v.weight,
        sent: c?.sent ?? 0,
        replied: c?.replied ?? 0,
        clicked: c?.clicked ?? 0,
        converted: c?.converted ?? 0,
        rate: c?.rate ?? null,
        z: c?.z ?? null,
        p: c?.p ?? null,
      };
    }),
    leader: r.verdict.leader,
    winner: r.decision.winner ?? r.verdict.winner,
    decided_at: r.decision.decidedAt?.toISOString() ?? null,
    pending: (r.decision.winner ?? r.verdict.winner) ? null : r.verdict.pending,
    promoted:
      r.decision.promotedVariant && r.decision.promotedBy && r.decision.promotedAt
        ? {
            variant: r.decision.promotedVariant,
            by: r.decision.promotedBy,
            at: r.decision.promotedAt.toISOString(),
          }
        : null,
  };
}

export const EXAMPLE_EXPERIMENT = {
  step: 0,
  metric: 'reply',
  min_sample: 300,
  confidence: 0.95,
  auto_promote: true,
  variants: [
    {
      name: 'A',
      weight: 1,
      sent: 300,
      replied: 10,
      clicked: 0,
      converted: 0,
      rate: 0.0333,
      z: -3.27,
      p: 0.0011,
    },
    { name: 'B', weight: 1, sent: 300, replied: 30, clicked: 0, converted: 0, rate: 0.1, z: null, p: null },
  ],
  leader: 'B',
  winner: 'B',
  decided_at: '2026-12-07T09:00:00.000Z',
  pending: null,
  promoted: { variant: 'B', by: 'auto', at: '2026-12-07T09:00:00.000Z' },
};
