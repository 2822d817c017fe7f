import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { uuidv7 } from '@herald/contacts';
import {
  audiencePage,
  DELIVERY_STATUSES,
  OutboxRelay,
  type AudienceSpec,
  type DeliveryStatus,
} from '@herald/deliveries';
import { queryRows } from '@herald/persistence';
import type { DataSource, EntityManager } from 'typeorm';
import type { Audience, CampaignKind, CampaignStatus } from './campaign-fields';
import { CampaignStateError } from './errors';

export const RUN_STATUSES = ['queued', 'running', 'completed', 'cancelled', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunRecord {
  tenantId: string;
  id: string;
  campaignId: string;
  trigger: 'schedule' | 'manual';
  dryRun: boolean;
  status: RunStatus;
  /** Contacts the run reached (for a dry run: would reach). */
  targeted: number;
  /** Deliveries of the run by status (statuses with none are 0). */
  deliveries: Record<DeliveryStatus, number>;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

interface RunRow {
  tenant_id: string;
  id: string;
  campaign_id: string;
  trigger: RunRecord['trigger'];
  dry_run: boolean;
  status: RunStatus;
  targeted: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  counts: Partial<Record<DeliveryStatus, string | number>> | null;
}

/** Every contact of an audience, for counting (a page size no tenant reaches). */
const WHOLE_AUDIENCE = 2_147_483_647;

/**
 * Campaign runs: starting one (the run and its fan-out job in one transaction, through the
 * outbox), reading its progress from the ledger, and cancelling it.
 */
@Injectable()
export class RunsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxRelay,
  ) {}

  /**
   * Starts a manual run in the caller's transaction: the `campaign_runs` row and the outbox row
   * of its `runs.fanout` job commit together (call `OutboxRelay.dispatchJob` after commit). A
   * dry run only counts the audience: it writes no delivery and needs no job. Undefined when the
   * campaign is not the tenant's; CampaignStateError when it cannot run now.
   */
  async start(
    manager: EntityManager,
    tenantId: string,
    campaignId: string,
    options: { dryRun: boolean },
  ): Promise<RunRecord | undefined> {
    // Locks the campaign: two concurrent starts see each other's run.
    const [campaign] = await manager.query<
      { kind: CampaignKind; status: CampaignStatus; audience: Audience; tenant_zone: string }[]
    >(
      `SELECT g.kind, g.status, g.audience, t.time_zone AS tenant_zone
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
      const targeted = await this.countAudience(manager, {
        tenantId,
        kind: campaign.kind,
        audience: campaign.audience,
        campaignId,
        runId: id,
        tenantZone: campaign.tenant_zone,
        at: new Date(),
      });
      await manager.query(
        `INSERT INTO campaign_runs (tenant_id, id, campaign_id, trigger, dry_run, status, targeted, fanout_done, started_at, finished_at)
         VALUES ($1, $2, $3, 'manual', true, 'completed', $4, true, now(), now())`,
        [tenantId, id, campaignId, targeted],
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

  /** The run with its deliveries counted by status; undefined when it is not the tenant's. */
  async find(
    tenantId: string,
    id: string,
    db: Pick<EntityManager, 'query'> = this.dataSource,
  ): Promise<RunRecord | undefined> {
    const rows = await db.query<RunRow[]>(
      `SELECT r.tenant_id, r.id, r.campaign_id, r.trigger, r.dry_run, r.status, r.targeted,
              r.created_at, r.started_at, r.finished_at,
              (SELECT json_object_agg(s.status, s.n)
                 FROM (SELECT d.status, count(*) AS n FROM deliveries d
                        WHERE d.tenant_id = r.tenant_id AND d.run_id = r.id GROUP BY d.status) s) AS counts
         FROM campaign_runs r
        WHERE r.tenant_id = $1 AND r.id = $2`,
      [tenantId, id],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /**
   * Cancels a queued or running run: it stops fanning out and its pending and deferred
   * deliveries are cancelled (one being sent right now finishes; the pipeline cancels any that
   * come back). Cancelling a cancelled run is fine; a finished one is a CampaignStateError.
   */
  async cancel(tenantId: string, id: string): Promise<RunRecord | undefined> {
    return this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const [run] = await manager.query<{ status: RunStatus }[]>(
        `SELECT status FROM campaign_runs WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
        [tenantId, id],
      );
      if (!run) return undefined;
      if (run.status === 'completed' || run.status === 'failed')
        throw new CampaignStateError(`This run is ${run.status}: there is nothing left to cancel.`);
      await cancelRuns(manager, tenantId, [id], 'run cancelled');
      return this.find(tenantId, id, manager);
    });
  }

  /** How many contacts a run of this audience would target (what the fan-out selects). */
  private async countAudience(manager: EntityManager, spec: AudienceSpec): Promise<number> {
    const page = audiencePage(spec, null, WHOLE_AUDIENCE);
    const [row] = await manager.query<{ n: string }[]>(
      `WITH raw AS (${page.raw}), page AS (${page.select}) SELECT count(*) AS n FROM page`,
      page.params,
    );
    return Number(row?.n ?? 0);
  }
}

/** Marks queued or running runs cancelled, and their deliveries that wait for a send. */
export async function cancelRuns(
  manager: EntityManager,
  tenantId: string,
  runIds: readonly string[],
  reason: string,
): Promise<void> {
  if (runIds.length === 0) return;
  const cancelled = queryRows<{ id: string }>(
    await manager.query(
      `UPDATE campaign_runs SET status = 'cancelled', finished_at = now()
        WHERE tenant_id = $1 AND id = ANY ($2::uuid[]) AND status IN ('queued', 'running') RETURNING id`,
      [tenantId, runIds],
    ),
  );
  if (cancelled.length === 0) return;
  await manager.query(
    `UPDATE deliveries SET status = 'cancelled', last_error = $3, lease_until = NULL, updated_at = now()
      WHERE tenant_id = $1 AND run_id = ANY ($2::uuid[]) AND status IN ('pending', 'deferred')`,
    [tenantId, cancelled.map((r) => r.id), reason],
  );
}

function toRecord(row: RunRow): RunRecord {
  const counts = row.counts ?? {};
  const deliveries = Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, Number(counts[s] ?? 0)])) as Record<
    DeliveryStatus,
    number
  >;
  return {
    tenantId: row.tenant_id,
    id: row.id,
    campaignId: row.campaign_id,
    trigger: row.trigger,
    dryRun: row.dry_run,
    status: row.status,
    targeted: row.targeted,
    deliveries,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
