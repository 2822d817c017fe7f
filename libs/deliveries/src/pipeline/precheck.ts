import { SETTLED_STATUSES, type DeliveryContext } from '../ledger.repository';
import type { BatchDecisions } from './decisions';

export const PAUSED_RECHECK_MS = 60_000;

export type PrecheckVerdict =
  | { kind: 'go' }
  | { kind: 'noop'; reason: string }
  | { kind: 'skipped'; reason: string }
  | { kind: 'cancel'; reason: string }
  | { kind: 'delay'; until: number; reason: string };

/** Precheck: what the loaded row alone says — settled, cancelled, leased, suppressed, paused. */
export function precheck(ctx: DeliveryContext, now: number): PrecheckVerdict {
  if (SETTLED_STATUSES.includes(ctx.status)) return { kind: 'noop', reason: `already ${ctx.status}` };
  if (ctx.runStatus === 'cancelled' || ctx.campaign.status === 'archived')
    return { kind: 'cancel', reason: 'run cancelled' };
  if (ctx.status === 'sending' && ctx.leaseUntil && ctx.leaseUntil.getTime() > now) {
    return { kind: 'delay', until: ctx.leaseUntil.getTime(), reason: 'attempt in progress' };
  }
  if (ctx.suppressed) return { kind: 'skipped', reason: 'suppressed' };
  if (ctx.contact.status !== 'active') return { kind: 'skipped', reason: `contact is ${ctx.contact.status}` };
  if (ctx.campaign.status === 'paused')
    return { kind: 'delay', until: now + PAUSED_RECHECK_MS, reason: 'campaign paused' };
  return { kind: 'go' };
}

/** The deliveries that go on; the others' outcomes are decided. */
export function precheckBatch(
  contexts: readonly DeliveryContext[],
  now: number,
  decisions: BatchDecisions,
): DeliveryContext[] {
  const candidates: DeliveryContext[] = [];
  for (const ctx of contexts) {
    const verdict = precheck(ctx, now);
    switch (verdict.kind) {
      case 'go':
        candidates.push(ctx);
        break;
      case 'skipped':
        decisions.skip(ctx, verdict.reason);
        break;
      case 'cancel':
        decisions.cancel(ctx, verdict.reason);
        break;
      case 'noop':
      case 'delay':
        decisions.decide(ctx, verdict);
        break;
    }
  }
  return candidates;
}
