import { z } from 'zod';
import type { Tier } from '../scoring/scoring-rules';

/** What happens to a scored candidate of a tier (sourcing_jobs.handoff). */
export const handoffActionSchema = z.discriminatedUnion(
  'action',
  [
    z.strictObject({ action: z.literal('contact') }),
    z.strictObject({ action: z.literal('enroll'), campaign_id: z.uuid('must be a campaign id') }),
    z.strictObject({ action: z.literal('hold') }),
    z.strictObject({ action: z.literal('reject') }),
  ],
  { error: 'action must be contact, enroll, hold or reject' },
);
export type HandoffAction = z.output<typeof handoffActionSchema>;

/** A tier without a valid entry is held for a person to decide: nothing leaves unseen. */
export function actionFor(handoff: unknown, tier: Tier): HandoffAction {
  const entry = (handoff as Record<string, unknown> | null)?.[tier];
  const parsed = handoffActionSchema.safeParse(entry);
  return parsed.success ? parsed.data : { action: 'hold' };
}
