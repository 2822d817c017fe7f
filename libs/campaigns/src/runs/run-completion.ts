import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { RunSettlement, type DeliveryRef, type RunOwner } from '@herald/deliveries';
import { queryRows } from '@herald/persistence';
import { HeraldMetrics } from '@herald/telemetry';
import type { DataSource } from 'typeorm';

/**
 * Completes runs: deliveries reports (through RunSettlement) the runs whose deliveries settled
 * or whose fan-out ended, and a run is completed once its fan-out is done and none of its
 * deliveries is left to finish. One statement for any number of runs; repeating it is harmless
 * (only a `running` run moves), so the pipeline's step can retry it.
 */
@Injectable()
export class RunCompletion implements RunOwner, OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: HeraldMetrics,
    private readonly settlement: RunSettlement,
  ) {}

  /** Before any queue processor starts (they start at application bootstrap). */
  onModuleInit(): void {
    this.settlement.register(this);
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
