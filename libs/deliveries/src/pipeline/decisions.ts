import type { Reservation } from '@herald/rate-limit';
import type { DeliveryContext, DeliveryRef } from '../ledger.repository';
import { ref, type DeliveryOutcome } from './types';

type WithReason = DeliveryRef & { reason: string };

/**
 * What the stages decided for one batch: each delivery's outcome for its job, the ledger writes
 * that need no send (written together by the record stage), and the quota to commit or refund
 * (by the settle stage). Stages only add to it; nothing here touches a database.
 */
export class BatchDecisions {
  readonly outcomes = new Map<string, DeliveryOutcome>();
  readonly skipped: WithReason[] = [];
  readonly cancelled: WithReason[] = [];
  readonly deferred: (WithReason & { dueAt: Date })[] = [];
  /** Failed before any claim (no attempt holds them): unknown accounts, template errors. */
  readonly failedUnclaimed: (DeliveryRef & { error: string; permanent: boolean })[] = [];
  /** `sending` rows whose attempt died, on an account that takes no repeat. */
  readonly unknown: WithReason[] = [];
  readonly commits: Reservation[] = [];
  readonly refunds: Reservation[] = [];

  decide(ctx: DeliveryContext, outcome: DeliveryOutcome): void {
    this.outcomes.set(ctx.id, outcome);
  }

  skip(ctx: DeliveryContext, reason: string): void {
    this.skipped.push({ ...ref(ctx), reason });
    this.decide(ctx, { kind: 'skipped', reason });
  }

  cancel(ctx: DeliveryContext, reason: string): void {
    this.cancelled.push({ ...ref(ctx), reason });
    this.decide(ctx, { kind: 'noop', reason });
  }

  defer(ctx: DeliveryContext, due: Date, reason: string, jobReason: string): void {
    this.deferred.push({ ...ref(ctx), dueAt: due, reason });
    this.decide(ctx, { kind: 'delay', until: due.getTime(), reason: jobReason });
  }

  failBeforeClaim(ctx: DeliveryContext, reason: string): void {
    this.failedUnclaimed.push({ ...ref(ctx), error: reason, permanent: true });
    this.decide(ctx, { kind: 'failed', reason });
  }

  holdUnknown(ctx: DeliveryContext, reason: string): void {
    this.unknown.push({ ...ref(ctx), reason });
    this.decide(ctx, { kind: 'unknown', reason });
  }

  /** Final for this delivery (the job completes): not a wait, not another round. */
  isFinal(id: string): boolean {
    const outcome = this.outcomes.get(id);
    return outcome !== undefined && outcome.kind !== 'delay' && outcome.kind !== 'again';
  }
}
