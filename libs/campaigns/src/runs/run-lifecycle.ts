import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { uuidv7 } from '@herald/contacts';
import { OutboxRelay } from '@herald/deliveries';
import { HeraldMetrics } from '@herald/telemetry';
import type { DataSource, EntityManager } from 'typeorm';
import { CampaignStateError } from '../errors';
import { cancelRuns, countCancelled } from './cancel-runs';
import { RunForecaster, type CampaignForRun } from './run-forecast';
import { RunProgress } from './run-progress';
import { readRun, type RunRecord, type RunStatus } from './run-record';

/**
 * A run's life: starting one (the run and its fan-out job in one transaction, through the
 * outbox), reading it with its progress, and cancelling it.
 */
@Injectable()
export class RunLifecycle {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxRelay,
    private readonly forecaster: RunForecaster,
    private readonly progress: RunProgress,
    private readonly metrics: HeraldMetrics,
  ) {}

  /**
   * Starts a manual run in the caller's transaction: the `campaign_runs` row and the outbox row
   * of its `runs.fanout` job commit together (call `OutboxRelay.dispatchJob` after commit). A
   * dry run writes no delivery and needs no job: it completes at once with its forecast. Undefined
   * when the campaign is not the tenant's; CampaignStateError when it cannot run now.
   */
  async start(
    manager: EntityManager,
    tenantId: string,
    campaignId: string,
    options: { dryRun: boolean },
  ): Promise<RunRecord | undefined> {
    // Locks the campaign: two concurrent starts see each other's run.
    const [campaign] = await manager.query<CampaignForRun[]>(
      `SELECT g.kind, g.status, g.audience, t.time_zone AS tenant_zone, g.sender_account_id, g.send_window,
              g.run_cap, g.quota_policy
         FROM campaigns g JOIN tenants t ON t.id = g.tenant_id
        WHERE g.tenant_id = $1 AND g.id = $2 FOR UPDATE OF g`,
      [tenantId, campaignId],
    );
    if (!campaign) return undefined;
    if (campaign.status === 'archived') throw new CampaignStateError('This campaign is archived.');
    if (campaign.kind !== 'broadcast' && campaign.kind !== 'birthday') {
      throw new CampaignStateError(
        `A ${campaign.kind} campaign has no runs: it sends to its enrollments (POST /v1/campaigns/${campaignId}/enrollments).`,
      );
    }
    const id = uuidv7();
    if (options.dryRun) {
      const forecast = await this.forecaster.forecast(manager, tenantId, campaignId, id, campaign);
      await manager.query(
        `INSERT INTO campaign_runs (tenant_id, id, campaign_id, trigger, dry_run, status, targeted, fanout_done, forecast, started_at, finished_at)
         VALUES ($1, $2, $3, 'manual', true, 'completed', $4, true, $5, now(), now())`,
        [tenantId, id, campaignId, forecast.targeted, JSON.stringify(forecast)],
      );
    } else {
      const [active] = await manager.query<{ id: string }[]>(
        `SELECT id FROM campaign_runs
          WHERE tenant_id = $1 AND campaign_id = $2 AND status IN ('queued', 'running') AND NOT dry_run LIMIT 1`,
        [tenantId, campaignId],
      );
      if (active) {
        throw new CampaignStateError(
          `Run ${active.id} of this campaign is still in progress: wait for it or cancel it first.`,
        );
      }
      await manager.query(
        `INSERT INTO campaign_runs (tenant_id, id, campaign_id, trigger, dry_run) VALUES ($1, $2, $3, 'manual', false)`,
        [tenantId, id, campaignId],
      );
      await this.outbox.write(manager, tenantId, 'runs.fanout', { tenant_id: tenantId, run_id: id });
    }
    return this.find(tenantId, id, manager);
  }

  /** The run with its deliveries counted by status and its ETA; undefined when it is not the tenant's. */
  async find(
    tenantId: string,
    id: string,
    db: Pick<EntityManager, 'query'> = this.dataSource,
  ): Promise<RunRecord | undefined> {
    const record = await readRun(db, tenantId, id);
    return record && this.progress.estimate(record, db);
  }

  /**
   * Cancels a queued or running run: it stops fanning out and its pending and deferred
   * deliveries are cancelled (one being sent right now finishes; the pipeline cancels any that
   * come back). Cancelling a cancelled run is fine; a finished one is a CampaignStateError.
   */
  async cancel(tenantId: string, id: string): Promise<RunRecord | undefined> {
    let cancelled: { kind: string; trigger: string }[] = [];
    const result = await this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const [run] = await manager.query<{ status: RunStatus }[]>(
        `SELECT status FROM campaign_runs WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
        [tenantId, id],
      );
      if (!run) return undefined;
      if (run.status === 'completed' || run.status === 'failed')
        throw new CampaignStateError(`This run is ${run.status}: there is nothing left to cancel.`);
      cancelled = await cancelRuns(manager, tenantId, [id], 'run cancelled');
      return this.find(tenantId, id, manager);
    });
    countCancelled(this.metrics, cancelled);
    return result;
  }
}
