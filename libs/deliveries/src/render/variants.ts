import { createHash } from 'node:crypto';
import type { MessageContent } from './message-content';

/**
 * One arm of a step's A/B/n experiment: what it changes of the step (subject and/or body) and
 * its share of the audience (weight over the sum of the step's weights).
 */
export interface MessageVariant {
  name: string;
  weight: number;
  subject?: string;
  body?: string;
  html?: boolean;
}

export const EXPERIMENT_METRICS = ['reply', 'click', 'conversion'] as const;
export type ExperimentMetric = (typeof EXPERIMENT_METRICS)[number];

/** How a step's experiment is decided (stored snake_case, as the API takes it). */
export interface ExperimentSettings {
  metric: ExperimentMetric;
  /** Sends each variant needs before a winner may be called. */
  min_sample: number;
  /** e.g. 0.95: the leader must beat every other variant at p < 1 − confidence. */
  confidence: number;
  /** Once a winner is called, the rest of the audience gets it. */
  auto_promote: boolean;
}

/** Who a variant is picked for: the same three always get the same variant. */
export interface AllocationKey {
  contactId: string;
  campaignId: string;
  step: number;
}

export interface PickedVariant {
  /** The variant's name, null when the step has no variants. */
  variant: string | null;
  /** The step's content with the variant's subject and body in place (no variants left in it). */
  content: MessageContent;
}

/** 2^32: the hash's range. */
const HASH_RANGE = 4_294_967_296;

/**
 * The variant of a step a contact gets, and the content it is rendered from. Deterministic: a
 * hash of campaign, step and contact lands in one of the variants' weight bands, so a retry, a
 * preview and a forecast all agree. A promoted variant (a winner, or an operator's choice) goes
 * to everyone from then on; an unknown promoted name (the variants were since edited) is ignored.
 */
export function pickVariant(
  content: MessageContent,
  key: AllocationKey,
  promoted?: string | null,
): PickedVariant {
  const { variants, experiment: _experiment, ...base } = content;
  if (!variants || variants.length === 0) return { variant: null, content: base };
  const chosen =
    variants.find((v) => v.name === promoted) ??
    variants[weightBand(variants, allocationPoint(key, variants))]!;
  return {
    variant: chosen.name,
    content: {
      ...base,
      ...(chosen.subject !== undefined ? { subject: chosen.subject } : {}),
      ...(chosen.body !== undefined ? { body: chosen.body } : {}),
      ...(chosen.html !== undefined ? { html: chosen.html } : {}),
    },
  };
}

/** A point in [0, total weight): the first 32 bits of md5(campaign:step:contact), scaled. */
export function allocationPoint(
  key: AllocationKey,
  variants: readonly Pick<MessageVariant, 'weight'>[],
): number {
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  const hex = createHash('md5').update(`${key.campaignId}:${key.step}:${key.contactId}`).digest('hex');
  return Math.floor((parseInt(hex.slice(0, 8), 16) * total) / HASH_RANGE);
}

/** The index of the variant whose band [sum of earlier weights, + own weight) holds `point`. */
function weightBand(variants: readonly Pick<MessageVariant, 'weight'>[], point: number): number {
  let upper = 0;
  for (let i = 0; i < variants.length; i += 1) {
    upper += variants[i]!.weight;
    if (point < upper) return i;
  }
  return variants.length - 1;
}

/**
 * The same allocation in SQL (for counting a whole audience's split without loading it):
 * `contactSql` is the contact id expression, `campaignParam`/`stepParam` placeholders. Integer
 * arithmetic on the same 32 bits, so it agrees with allocationPoint exactly (a test compares).
 */
export function allocationPointSql(
  contactSql: string,
  campaignParam: string,
  stepParam: string,
  total: number,
): string {
  return `((('x' || substr(md5(${campaignParam}::text || ':' || ${stepParam}::text || ':' || ${contactSql}::text), 1, 8))::bit(32)::bigint * ${Math.trunc(total)}) / ${HASH_RANGE})`;
}
