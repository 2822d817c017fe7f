import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '@herald/time';
import type { EntityManager } from 'typeorm';
import { estimateCompletion, planQuota } from '../forecast';
import { planInput, QuotaBasis, type BasisCampaign } from './quota-basis';
import type { RunRecord } from './run-record';

/** A running run's ETA: its remaining deliveries placed in the account's quota windows, against its recent rate. */
@Injectable()
export class RunProgress {
  constructor(
    private readonly basis: QuotaBasis,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Sets `record.eta` and `etaReason` while the run is fanned out and still has deliveries to send. */
  async estimate(record: RunRecord, db: Pick<EntityManager, 'query'>): Promise<RunRecord> {
    const d = record.deliveries;
    const remaining = d.pending + d.sending + d.deferred;
    if (record.dryRun || record.status !== 'running' || !record.fanoutDone || remaining === 0) return record;
    const nowMs = this.clock.nowMs();
    const [campaign] = await db.query<BasisCampaign[]>(
      `SELECT g.sender_account_id, g.send_window, g.quota_policy FROM campaigns g WHERE g.tenant_id = $1 AND g.id = $2`,
      [record.tenantId, record.campaignId],
    );
    if (!campaign) return record;
    // Deferring or not, what is still waiting goes out as windows reset.
    const basis = await this.basis.at(record.tenantId, campaign, nowMs);
    const plan = planQuota(planInput({ ...basis, policy: 'defer' }, remaining));
    const eta = estimateCompletion({ remaining, nowMs, ratePerSecond: record.ratePerSecond, plan });
    record.eta = eta.etaMs === null ? null : new Date(eta.etaMs);
    record.etaReason = eta.reason;
    return record;
  }
}
