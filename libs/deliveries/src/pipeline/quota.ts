import type { QuotaService, Reservation } from '@herald/rate-limit';
import { randomBytes } from 'node:crypto';
import { errorText } from '../stage-errors';
import type { BatchDecisions } from './decisions';
import type { Ready, Step } from './types';

/**
 * Quota: one unit per delivery from its account's windows (and its run's cap), a group in one
 * call; denials defer, skip or wait as the campaign says. After the sends, the batch's units
 * are committed or refunded in one call each.
 */
export class QuotaStage {
  constructor(
    private readonly quota: Pick<QuotaService, 'reserveBatch' | 'commitMany' | 'refundMany'>,
    private readonly step: Step,
    private readonly warn: (message: string, details: Record<string, unknown>) => void,
  ) {}

  /** The group's deliveries that got a unit, with their reservation. The group shares account and run. */
  async reserve(group: readonly Ready[], decisions: BatchDecisions): Promise<Ready[]> {
    const first = group[0];
    if (!first) return [];
    const runCap =
      first.ctx.runId && first.ctx.campaign.runCap
        ? { runId: first.ctx.runId, limit: first.ctx.campaign.runCap }
        : undefined;
    // The same ids on every try: a reservation whose reply was lost is replayed, not taken twice.
    const ids = group.map((r) => `${r.ctx.id}:${randomBytes(4).toString('hex')}`);
    const result = await this.step('quota reserve', () =>
      this.quota.reserveBatch({
        account: first.account.quota,
        reservationIds: ids,
        ...(runCap ? { runCap } : {}),
      }),
    );
    const granted = new Map([...result.admitted, ...result.replayed].map((r) => [r.id, r]));
    const admitted: Ready[] = [];
    group.forEach((r, i) => {
      const reservation = granted.get(ids[i]!);
      if (reservation) {
        admitted.push({ ...r, reservation });
        return;
      }
      const denial = result.denial;
      if (denial?.reason === 'unavailable') {
        // Not a quota decision: Postgres could not lease units. Nothing changes in the ledger.
        decisions.decide(r.ctx, { kind: 'delay', until: denial.retryAt, reason: 'quota unavailable' });
      } else if (denial?.reason === 'quota' && r.ctx.campaign.quotaPolicy === 'defer') {
        decisions.defer(
          r.ctx,
          new Date(denial.retryAt),
          `quota exhausted (${denial.exhausted.join(', ')})`,
          'quota exhausted',
        );
      } else {
        decisions.skip(r.ctx, denial?.reason === 'run_cap' ? 'run cap reached' : 'quota exhausted');
      }
    });
    return admitted;
  }

  /**
   * Commits or refunds reservations. One that cannot be settled now (Redis or Postgres away) is
   * left pending: the beat settles it from the ledger later, so it is logged, never thrown.
   */
  async settle(action: 'commit' | 'refund', reservations: readonly Reservation[]): Promise<void> {
    if (reservations.length === 0) return;
    let left: number;
    let error: unknown;
    try {
      const outcomes = await this.step<readonly string[]>(`quota ${action}`, () =>
        action === 'commit' ? this.quota.commitMany(reservations) : this.quota.refundMany(reservations),
      );
      left = outcomes.filter((o) => o === 'unavailable').length;
    } catch (caught) {
      left = reservations.length;
      error = caught;
    }
    if (left === 0) return;
    this.warn('quota reservations left for the beat to settle', {
      action,
      count: left,
      ...(error ? { err: { message: errorText(error) } } : {}),
    });
  }
}
