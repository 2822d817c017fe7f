import { Injectable } from '@nestjs/common';
import type { DeliveryRef } from './ledger.repository';

/**
 * The owner of runs (campaigns; it writes `campaign_runs`): told when deliveries of its runs
 * settle or a run's fan-out ends, it completes the runs with nothing left to send. Called
 * within the pipeline's step, so a refusal is retried there and the batch goes back to the
 * queue past its budget — completion stays as reliable as the record it follows.
 */
export interface RunOwner {
  /** Returns the ids of the runs it completed. */
  deliveriesSettled(runs: readonly DeliveryRef[]): Promise<string[]>;
}

/**
 * Where deliveries reports to the owner of runs without depending on it: the owner registers
 * itself here when its module starts (campaigns depends on deliveries, never the reverse).
 * Reporting with no owner registered is a composition error and fails loudly.
 */
@Injectable()
export class RunSettlement {
  private owner: RunOwner | undefined;

  register(owner: RunOwner): void {
    if (this.owner && this.owner !== owner) throw new Error('runs already have an owner');
    this.owner = owner;
  }

  async deliveriesSettled(runs: readonly DeliveryRef[]): Promise<string[]> {
    if (runs.length === 0) return [];
    if (!this.owner)
      throw new Error('no owner of runs is registered: import CampaignsModule beside DeliveriesModule');
    return this.owner.deliveriesSettled(runs);
  }
}
