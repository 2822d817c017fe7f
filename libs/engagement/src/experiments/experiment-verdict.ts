import { twoProportionZTest } from './z-test';

/** One variant's counts: sends, and the outcomes an experiment may be decided on. */
export interface VariantCounts {
  variant: string;
  sent: number;
  replied: number;
  clicked: number;
  converted: number;
}

export type VerdictMetric = 'reply' | 'click' | 'conversion';

export interface VerdictSettings {
  metric: VerdictMetric;
  min_sample: number;
  confidence: number;
}

export interface VariantResult extends VariantCounts {
  /** The chosen metric's successes over sends (null before the first send). */
  rate: number | null;
  /** Against the leader (null for the leader itself, or when the test cannot be made). */
  z: number | null;
  p: number | null;
}

export interface Verdict {
  variants: VariantResult[];
  leader: string | null;
  /** The leader, once every variant has `min_sample` sends and the leader beats each other one significantly. */
  winner: string | null;
  /** Why there is no winner yet (null when there is one). */
  pending: string | null;
}

const SUCCESSES: Record<VerdictMetric, (c: VariantCounts) => number> = {
  reply: (c) => c.replied,
  click: (c) => c.clicked,
  conversion: (c) => c.converted,
};

/**
 * The winner of an A/B/n experiment: the variant with the highest rate on the chosen metric,
 * tested against every other variant by the two-proportion z-test. With more than two variants
 * the significance level is split between the comparisons (Bonferroni), so calling a winner
 * among n arms is no likelier by chance than between two.
 */
export function decideExperiment(counts: readonly VariantCounts[], settings: VerdictSettings): Verdict {
  const successes = SUCCESSES[settings.metric];
  const rated = counts.map((c) => ({ ...c, rate: c.sent > 0 ? successes(c) / c.sent : null }));
  const leader = rated.reduce<(typeof rated)[number] | null>(
    (best, c) => (c.rate !== null && (best === null || c.rate > best.rate!) ? c : best),
    null,
  );
  const variants: VariantResult[] = rated.map((c) => {
    if (!leader || c.variant === leader.variant) return { ...c, z: null, p: null };
    const test = twoProportionZTest(
      { successes: successes(leader), trials: leader.sent },
      { successes: successes(c), trials: c.sent },
    );
    return { ...c, z: test?.z ?? null, p: test?.p ?? null };
  });
  const verdict = (winner: string | null, pending: string | null): Verdict => ({
    variants,
    leader: leader?.variant ?? null,
    winner,
    pending,
  });
  if (counts.length < 2) return verdict(null, 'an experiment needs at least two variants');
  const short = counts.filter((c) => c.sent < settings.min_sample);
  if (short.length > 0)
    return verdict(
      null,
      `every variant needs ${settings.min_sample} sends (${short.map((c) => c.variant).join(', ')} short)`,
    );
  const alpha = (1 - settings.confidence) / (counts.length - 1);
  const others = variants.filter((v) => v.variant !== leader!.variant);
  const beaten = others.every((v) => v.p !== null && v.z !== null && v.z > 0 && v.p < alpha);
  return beaten
    ? verdict(leader!.variant, null)
    : verdict(null, `no variant leads at ${settings.confidence} confidence yet`);
}
