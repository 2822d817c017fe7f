import { Injectable } from '@nestjs/common';
import type { ContactFilterJson } from './audience';
import type { DeliveryRef } from './ledger.repository';

/** What a run's fan-out needs of its run and campaign, read as the fan-out starts (or resumes). */
export interface FanoutRun {
  /** Where a resumed fan-out continues: the last contact id of the last page enqueued. */
  cursor: string | null;
  kind: string;
  audience: ContactFilterJson;
  campaignId: string;
  senderAccountId: string;
  channel: string;
  tenantZone: string;
  /** The instant the audience is evaluated at (a scheduled slot, else the run's creation). */
  at: Date;
}

/** A fan-out's progress past one page. */
export interface FanoutProgress {
  cursor: string | null;
  /** Ledger rows the page inserted (the run's `targeted` grows by as many). */
  inserted: number;
  /** The last page: every contact of the audience has its row. */
  done: boolean;
}

/**
 * The owner of runs (campaigns; the one writer of `campaign_runs`), as deliveries needs it:
 * the fan-out reports its start and progress, the pipeline and the fan-out report deliveries
 * that settled. Each call is one statement, safe to repeat (guarded by the run's state), so
 * the caller's step retries it like its own ledger writes.
 */
export interface RunOwner {
  /** Marks the run running; what its fan-out needs, or undefined when it is cancelled, finished or gone. */
  fanoutStarted(tenantId: string, runId: string): Promise<FanoutRun | undefined>;
  /** Saves the progress past a page; returns whether the run is still running (a cancel stops the fan-out). */
  fanoutProgressed(tenantId: string, runId: string, progress: FanoutProgress): Promise<boolean>;
  /** Completes the runs whose fan-out is done and none of whose deliveries is left to finish; returns their ids. */
  deliveriesSettled(runs: readonly DeliveryRef[]): Promise<string[]>;
}

/**
 * Where deliveries reports to the owner of runs without depending on it: the owner registers
 * itself here when its module initialises, before any queue processor starts (campaigns
 * depends on deliveries, never the reverse). A report with no owner registered is a
 * composition error and fails loudly.
 */
@Injectable()
export class RunPort implements RunOwner {
  private owner: RunOwner | undefined;

  register(owner: RunOwner): void {
    if (this.owner && this.owner !== owner) throw new Error('runs already have an owner');
    this.owner = owner;
  }

  async fanoutStarted(tenantId: string, runId: string): Promise<FanoutRun | undefined> {
    return this.registered().fanoutStarted(tenantId, runId);
  }

  async fanoutProgressed(tenantId: string, runId: string, progress: FanoutProgress): Promise<boolean> {
    return this.registered().fanoutProgressed(tenantId, runId, progress);
  }

  async deliveriesSettled(runs: readonly DeliveryRef[]): Promise<string[]> {
    if (runs.length === 0) return [];
    return this.registered().deliveriesSettled(runs);
  }

  private registered(): RunOwner {
    if (!this.owner)
      throw new Error('no owner of runs is registered: import CampaignsModule beside DeliveriesModule');
    return this.owner;
  }
}
