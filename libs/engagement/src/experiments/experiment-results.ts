import type { EntityManager } from 'typeorm';
import { decideExperiment, type Verdict, type VerdictSettings } from './experiment-verdict';
import { countsInOrder, variantCounts } from './variant-counts';

/** A step's experiment as the campaign stores it: its variants' names and weights, and how it is decided. */
export interface StepExperiment {
  step: number;
  variants: readonly { name: string; weight: number }[];
  settings: VerdictSettings & { auto_promote: boolean };
}

/** What was decided about a step's experiment (campaign_experiments). */
export interface ExperimentDecision {
  winner: string | null;
  decidedAt: Date | null;
  promotedVariant: string | null;
  promotedBy: 'auto' | 'manual' | null;
  promotedAt: Date | null;
}

export interface ExperimentResult extends StepExperiment {
  verdict: Verdict;
  decision: ExperimentDecision;
}

interface StepRow {
  step: number;
  content: {
    variants?: { name: string; weight: number }[];
    experiment?: StepExperiment['settings'];
  };
}

interface DecisionRow {
  step: number;
  winner: string | null;
  decided_at: Date | null;
  promoted_variant: string | null;
  promoted_by: 'auto' | 'manual' | null;
  promoted_at: Date | null;
}

const NO_DECISION: ExperimentDecision = {
  winner: null,
  decidedAt: null,
  promotedVariant: null,
  promotedBy: null,
  promotedAt: null,
};

/**
 * The experiments of a campaign's steps as they stand now: each experimenting step's variants,
 * their counts and the z-test's verdict, with what was decided and promoted. Reads the campaign's
 * steps and campaign_experiments by SQL (engagement knows no campaigns code: campaigns builds on it).
 */
export async function campaignExperiments(
  db: Pick<EntityManager, 'query'>,
  tenantId: string,
  campaignId: string,
): Promise<ExperimentResult[]> {
  const steps = await db.query<StepRow[]>(
    `SELECT (s.ordinality - 1)::int AS step, s.value AS content
       FROM campaigns g, jsonb_array_elements(g.steps) WITH ORDINALITY AS s (value, ordinality)
      WHERE g.tenant_id = $1 AND g.id = $2 AND jsonb_typeof(s.value -> 'variants') = 'array'
      ORDER BY 1`,
    [tenantId, campaignId],
  );
  if (steps.length === 0) return [];
  const decisions = await db.query<DecisionRow[]>(
    `SELECT step, winner, decided_at, promoted_variant, promoted_by, promoted_at
       FROM campaign_experiments WHERE tenant_id = $1 AND campaign_id = $2`,
    [tenantId, campaignId],
  );
  const counts = await variantCounts(
    db,
    tenantId,
    campaignId,
    steps.map((s) => s.step),
  );
  return steps.map((s) => {
    const variants = (s.content.variants ?? []).map((v) => ({ name: v.name, weight: v.weight }));
    const settings = s.content.experiment ?? {
      metric: 'reply',
      min_sample: 100,
      confidence: 0.95,
      auto_promote: false,
    };
    const decided = decisions.find((d) => d.step === s.step);
    return {
      step: s.step,
      variants,
      settings,
      verdict: decideExperiment(
        countsInOrder(
          variants.map((v) => v.name),
          counts.get(s.step) ?? [],
        ),
        settings,
      ),
      decision: decided
        ? {
            winner: decided.winner,
            decidedAt: decided.decided_at,
            promotedVariant: decided.promoted_variant,
            promotedBy: decided.promoted_by,
            promotedAt: decided.promoted_at,
          }
        : NO_DECISION,
    };
  });
}
