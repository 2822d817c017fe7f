/** Every counter column of `analytics_rollups` and `analytics_deltas` (the sourcing two are the funnel's). */
export const COUNTER_COLUMNS = [
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
  'sourced',
  'contacts',
] as const;

/** A rollup row's key, in the order of its unique constraint. */
export const KEY_COLUMNS = [
  'tenant_id',
  'campaign_id',
  'day',
  'step',
  'variant',
  'sender_account_id',
  'currency',
] as const;

export const VALUE_COLUMNS = [...COUNTER_COLUMNS, 'revenue'] as const;

/** The fold and the rebuild take this advisory lock, so they never run at once. */
export const ROLLUP_LOCK_KEY = 'herald:analytics-rollups';
