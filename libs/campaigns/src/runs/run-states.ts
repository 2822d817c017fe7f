import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  RunPort,
  type ContactFilterJson,
  type DeliveryRef,
  type FanoutProgress,
  type FanoutRun,
  type RunOwner,
} from '@herald/deliveries';
import { queryRows } from '@herald/persistence';
import { HeraldMetrics } from '@herald/telemetry';
import type { DataSource } from 'typeorm';

interface FanoutRunRow {
  cursor: string | null;
  kind: string;
  audience: ContactFilterJson;
  sender_account_id: string;
  channel: string;
  campaign_id: string;
  tenant_zone: string;
  at: Date;
}

/**
 * A run's states as deliveries moves it, registered with deliveries' RunPort: running once its
 * fan-out starts, the fan-out's cursor page by page, completed once the fan-out is done and no
 * delivery is left to finish. With the starts and cancels of RunLifecycle and CampaignSchedules,
 * every write of `campaign_runs` is campaigns'. Each statement is guarded by the run's state,
 * so repeating one is harmless and callers retry them.
 */
@Injectable()
export class RunStates implements RunOwner, OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: HeraldMetrics,
    private readonly port: RunPort,
  ) {}

  onModuleInit(): void {
    this.port.register(this);
  }

  async fanoutStarted(tenantId: string, runId: string): Promise<FanoutRun | undefined> {
    const [run] = queryRows<FanoutRunRow>(
      await this.dataSource.query(
        `UPDATE campaign_runs r SET status = 'running', started_at = coalesce(r.started_at, now())
           FROM campaigns g
           JOIN sender_accounts s ON s.tenant_id = g.tenant_id AND s.id = g.sender_account_id
           JOIN tenants t ON t.id = g.tenant_id
          WHERE r.tenant_id = $1 AND r.id = $2 AND g.tenant_id = r.tenant_id AND g.id = r.campaign_id
            AND r.status IN ('queued', 'running')
          RETURNING r.cursor, g.kind, g.audience, g.sender_account_id, s.channel, g.id AS campaign_id,
                    t.time_zone AS tenant_zone, coalesce(r.slot_at, r.created_at) AS at`,
        [tenantId, runId],
      ),
    );
    if (!run) return undefined;
    return {
      cursor: run.cursor,
      kind: run.kind,
      audience: run.audience,
      campaignId: run.campaign_id,
      senderAccountId: run.sender_account_id,
      channel: run.channel,
      tenantZone: run.tenant_zone,
      at: run.at,
    };
  }

  async fanoutProgressed(tenantId: string, runId: string, progress: FanoutProgress): Promise<boolean> {
    const [state] = queryRows<{ status: string }>(
      await this.dataSource.query(
        `UPDATE campaign_runs SET cursor = $3, targeted = targeted + $4, fanout_done = $5
          WHERE tenant_id = $1 AND id = $2 RETURNING status`,
        [tenantId, runId, progress.cursor, progress.inserted, progress.done],
      ),
    );
    return state?.status === 'running';
  }

  async deliveriesSettled(runs: readonly DeliveryRef[]): Promise<string[]> {
    if (runs.length === 0) return [];
    const rows = queryRows<{ id: string; kind: string; trigger: string }>(
      await this.dataSource.query(
        `UPDATE campaign_runs r SET status = 'completed', finished_at = now()
         FROM unnest($1::uuid[], $2::uuid[]) AS k (tenant_id, id), campaigns g
        WHERE r.tenant_id = k.tenant_id AND r.id = k.id AND r.status = 'running' AND r.fanout_done
          AND g.tenant_id = r.tenant_id AND g.id = r.campaign_id
          AND NOT EXISTS (SELECT 1 FROM deliveries d
                           WHERE d.tenant_id = r.tenant_id AND d.run_id = r.id
                             AND d.status IN ('pending', 'sending', 'deferred'))
        RETURNING r.id, g.kind, r.trigger`,
        [runs.map((r) => r.tenantId), runs.map((r) => r.id)],
      ),
    );
    for (const r of rows)
      this.metrics.campaignRuns.inc({ kind: r.kind, trigger: r.trigger, outcome: 'completed' });
    return rows.map((r) => r.id);
  }
}
