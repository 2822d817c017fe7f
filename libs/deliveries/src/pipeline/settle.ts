import { deliveryOutcomeLabels } from '../delivery-outcome-labels';
import type { HeraldMetrics } from '@herald/telemetry';
import type { DeliveryContext, DeliveryRef, LedgerRepository } from '../ledger.repository';
import type { BreakerStage, CircuitTally } from './breaker';
import type { BatchDecisions } from './decisions';
import type { QuotaStage } from './quota';
import type { Step } from './types';

/**
 * Settle: the batch's quota committed (sent) or refunded (not sent), the circuits told how their
 * sends went, runs whose last delivery this batch finished completed, and the outcomes counted.
 */
export class SettleStage {
  constructor(
    private readonly quota: Pick<QuotaStage, 'settle'>,
    private readonly breaker: Pick<BreakerStage, 'record'>,
    private readonly ledger: Pick<LedgerRepository, 'completeRuns'>,
    private readonly metrics: Pick<
      HeraldMetrics,
      'deliveries' | 'deliveriesUnknown' | 'countAccountDelivery'
    >,
    private readonly step: Step,
  ) {}

  /** Quota and circuits: never throws (what cannot be settled now is the beat's). */
  async afterSends(
    decisions: BatchDecisions,
    tallies: Iterable<CircuitTally>,
    movedToUnknown: readonly { channel: string }[],
  ): Promise<void> {
    for (const m of movedToUnknown) this.metrics.deliveriesUnknown.inc({ channel: m.channel });
    await Promise.all([
      this.quota.settle('commit', decisions.commits),
      this.quota.settle('refund', decisions.refunds),
      ...[...tallies].map((t) => this.breaker.record(t)),
    ]);
  }

  /** Runs and metrics, once the batch's outcomes stand. */
  async finish(contexts: readonly DeliveryContext[], decisions: BatchDecisions): Promise<void> {
    const runs = new Map<string, DeliveryRef>();
    for (const c of contexts)
      if (c.runId && decisions.isFinal(c.id))
        runs.set(`${c.tenantId}:${c.runId}`, { tenantId: c.tenantId, id: c.runId });
    if (runs.size > 0) await this.step('complete runs', () => this.ledger.completeRuns([...runs.values()]));
    for (const ctx of contexts) {
      const outcome = decisions.outcomes.get(ctx.id);
      if (outcome && outcome.kind !== 'again')
        this.metrics.deliveries.inc(deliveryOutcomeLabels(ctx.channel, outcome));
      // Per account, the sends the engagement rates are taken over (bounce, complaint, delivery).
      if (outcome?.kind === 'sent' || outcome?.kind === 'failed')
        this.metrics.countAccountDelivery(ctx.senderAccountId, outcome.kind);
    }
  }
}
