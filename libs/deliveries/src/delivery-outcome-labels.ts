import type { DeliveryOutcome } from './delivery-pipeline';

/** Delays the provider caused: the delivery was tried and will be tried again. */
const RETRY_REASONS = new Set(['transient error']);

/**
 * The labels of `herald_deliveries_total` for one delivery's outcome. Dashboards and alerts
 * select on `outcome`, a short fixed list: sent, failed, skipped, unknown, noop, retried (the
 * provider failed transiently, the delivery comes back) and deferred (it waits without an attempt:
 * breaker, quota, send window, paused campaign, a lease held elsewhere). `reason` says which wait,
 * from the pipeline's fixed reasons (snake_case), and is empty for the other outcomes.
 */
export function deliveryOutcomeLabels(
  channel: string,
  outcome: Exclude<DeliveryOutcome, { kind: 'again' }>,
): { channel: string; outcome: string; reason: string } {
  if (outcome.kind !== 'delay') return { channel, outcome: outcome.kind, reason: '' };
  return {
    channel,
    outcome: RETRY_REASONS.has(outcome.reason) ? 'retried' : 'deferred',
    reason: outcome.reason.replace(/[^a-z]+/g, '_'),
  };
}
