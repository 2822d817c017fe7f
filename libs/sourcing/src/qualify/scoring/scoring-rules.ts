import { z } from 'zod';

export const RULE_OPS = ['equals', 'in', 'range', 'exists', 'contains'] as const;
export const TIERS = ['A', 'B', 'C', 'D'] as const;
export type Tier = (typeof TIERS)[number];

const MAX_RULES = 100;
const scalar = z.union([z.string().max(500), z.number(), z.boolean()], 'must be a string, number or boolean');
/** A dotted path into the candidate: `assessment.https`, `enrichment.company.employees`, `category`. */
const field = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+){0,7}$/, 'must be a dotted path such as assessment.https')
  .max(200, 'must be at most 200 characters');
const points = z
  .number()
  .int('must be a whole number')
  .min(-1000, 'must be at least -1000')
  .max(1000, 'must be at most 1000');
const base = {
  name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  field,
  points,
};

export const ruleSchema = z.discriminatedUnion(
  'op',
  [
    z.strictObject({ ...base, op: z.literal('equals'), value: scalar }),
    z.strictObject({
      ...base,
      op: z.literal('in'),
      values: z.array(scalar).min(1, 'must list at least one value').max(100, 'must list at most 100 values'),
    }),
    z
      .strictObject({
        ...base,
        op: z.literal('range'),
        min: z.number().optional(),
        max: z.number().optional(),
      })
      .refine((r) => r.min !== undefined || r.max !== undefined, {
        message: 'a range needs min, max or both',
        path: ['min'],
      })
      .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, {
        message: 'must not be greater than max',
        path: ['min'],
      }),
    z.strictObject({ ...base, op: z.literal('exists') }),
    z.strictObject({ ...base, op: z.literal('contains'), value: z.string().min(1).max(500) }),
  ],
  { error: `op must be one of ${RULE_OPS.join(', ')}` },
);
export type ScoringRule = z.output<typeof ruleSchema>;

const threshold = z.number().int('must be a whole number').min(-100_000).max(100_000);
/** Minimum score per tier; below C is D. A ≥ B ≥ C. */
export const tiersSchema = z
  .strictObject({ A: threshold, B: threshold, C: threshold })
  .refine((t) => t.A >= t.B, { message: 'must not be below B', path: ['A'] })
  .refine((t) => t.B >= t.C, { message: 'must not be below C', path: ['B'] });
export type TierThresholds = z.output<typeof tiersSchema>;

export const scoringVersionBody = z.strictObject({
  rules: z.array(ruleSchema).max(MAX_RULES, `must have at most ${MAX_RULES} rules`),
  tiers: tiersSchema,
});
export type ScoringVersionInput = z.output<typeof scoringVersionBody>;
