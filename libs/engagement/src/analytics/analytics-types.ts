/** The counters every rollup row carries (issue 12 item 6). */
export const ROLLUP_COUNTERS = [
  'targeted',
  'sent',
  'delivered',
  'bounced',
  'complained',
  'opened',
  'clicked',
  'replied',
  'unsubscribed',
  'converted',
] as const;
export type RollupCounter = (typeof ROLLUP_COUNTERS)[number];

/**
 * What happened to a set of messages. Counts of messages (targeted, sent) and of deliveries
 * with at least one human event of the kind (delivered … replied, unsubscribed), except
 * `converted`, which counts every conversion. `revenue` is per ISO 4217 currency (decimal
 * strings, never summed across currencies).
 */
export type AnalyticsCounts = Record<RollupCounter, number> & { revenue: Record<string, string> };

/** Inclusive range of local days (YYYY-MM-DD) in the tenant's zone. */
export interface AnalyticsRange {
  from: string;
  to: string;
}

/** How a campaign's rows are grouped. */
export const CAMPAIGN_GROUPINGS = ['day', 'step', 'variant', 'sender_account'] as const;
export type CampaignGrouping = (typeof CAMPAIGN_GROUPINGS)[number];

/** One group of a campaign's messages: only the field of its grouping is set. */
export interface AnalyticsRow extends AnalyticsCounts {
  day?: string;
  step?: number | null;
  /** null: rendered without an experiment. */
  variant?: string | null;
  senderAccountId?: string | null;
}

export interface CampaignAnalytics {
  campaignId: string;
  by: CampaignGrouping;
  range: AnalyticsRange;
  totals: AnalyticsCounts;
  /** Ordered by the grouping (days ascending, steps ascending, variants and accounts by name/id; null last). */
  rows: AnalyticsRow[];
}

/** The tenant's whole funnel in a range (or one campaign's, which has no sourcing stages). */
export interface Funnel {
  range: AnalyticsRange;
  campaignId: string | null;
  /** Candidates found by sourcing runs (null for one campaign's funnel). */
  sourced: number | null;
  /** Of those candidates, how many became contacts (null for one campaign's funnel). */
  contacts: number | null;
  sent: number;
  delivered: number;
  replied: number;
  converted: number;
  revenue: Record<string, string>;
}
