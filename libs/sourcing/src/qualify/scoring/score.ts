import type { ScoringRule, Tier, TierThresholds } from './scoring-rules';

/** One line of a candidate's explanation: the rule, its points, and the text a person reads. */
export interface ExplainLine {
  readonly rule: string;
  readonly points: number;
  readonly reason: string;
}

export interface ScoreResult {
  readonly score: number;
  readonly tier: Tier;
  readonly explain: ExplainLine[];
}

/** Reads a dotted path; a missing step is undefined. */
export function readPath(subject: unknown, path: string): unknown {
  let value: unknown = subject;
  for (const step of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

function matches(rule: ScoringRule, value: unknown): boolean {
  switch (rule.op) {
    case 'exists':
      return (
        value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0)
      );
    case 'equals':
      return same(value, rule.value);
    case 'in':
      return rule.values.some((v) => same(value, v));
    case 'range': {
      const n =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && value.trim() !== ''
            ? Number(value)
            : NaN;
      if (!Number.isFinite(n)) return false;
      return (rule.min === undefined || n >= rule.min) && (rule.max === undefined || n <= rule.max);
    }
    case 'contains': {
      const needle = rule.value.toLowerCase();
      if (typeof value === 'string') return value.toLowerCase().includes(needle);
      if (Array.isArray(value)) return value.some((v) => typeof v === 'string' && v.toLowerCase() === needle);
      return false;
    }
  }
}

/** Strings compare without case; otherwise strictly (true equals true, 3 equals 3). */
function same(a: unknown, b: string | number | boolean): boolean {
  if (typeof a === 'string' && typeof b === 'string')
    return a.trim().toLowerCase() === b.trim().toLowerCase();
  return a === b;
}

/**
 * Scores a subject (a candidate's fields and facts) with a version's rules: each rule that
 * matches adds its points (negative ones subtract); the tier is the highest whose threshold the
 * score reaches, else D. The explanation lists the matched rules in the model's order, as
 * "+20 HTTPS" or "−10 TTFB > 2 s". Pure: a rescore with the same facts gives the same answer.
 */
export function score(rules: readonly ScoringRule[], tiers: TierThresholds, subject: unknown): ScoreResult {
  const explain: ExplainLine[] = [];
  let total = 0;
  for (const rule of rules) {
    if (!matches(rule, readPath(subject, rule.field))) continue;
    total += rule.points;
    const sign = rule.points < 0 ? '\u2212' : '+';
    explain.push({
      rule: rule.name,
      points: rule.points,
      reason: `${sign}${Math.abs(rule.points)} ${rule.name}`,
    });
  }
  const tier: Tier = total >= tiers.A ? 'A' : total >= tiers.B ? 'B' : total >= tiers.C ? 'C' : 'D';
  return { score: total, tier, explain };
}
