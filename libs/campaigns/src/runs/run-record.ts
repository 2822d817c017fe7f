import { DELIVERY_STATUSES, type DeliveryStatus } from '@herald/deliveries';
import type { EntityManager } from 'typeorm';
import type { EtaReason } from '../forecast';
import type { RunForecast } from './run-forecast';

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
  /** Every contact of the audience has its ledger row (or the run stopped fanning out). */
  fanoutDone: boolean;
  /** Sends per second over the last minute of the run (or since it started, if less). */
  ratePerSecond: number;
  /** When the last remaining delivery should go out (quota and recent rate); null when unknown or done. */
  eta: Date | null;
  etaReason: EtaReason | null;
  /** A dry run's forecast: who would receive what, and when. Null for real runs. */
  forecast: RunForecast | null;
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
  fanout_done: boolean;
  forecast: RunForecast | null;
  recent_sent: string;
  running_s: number | null;
}

/** The run with its deliveries counted by status and its recent rate (no ETA); undefined when it is not the tenant's. */
export async function readRun(
  db: Pick<EntityManager, 'query'>,
  tenantId: string,
  id: string,
): Promise<RunRecord | undefined> {
  const rows = await db.query<RunRow[]>(
    `SELECT r.tenant_id, r.id, r.campaign_id, r.trigger, r.dry_run, r.status, r.targeted,
            r.created_at, r.started_at, r.finished_at, r.fanout_done, r.forecast,
            (SELECT json_object_agg(s.status, s.n)
               FROM (SELECT d.status, count(*) AS n FROM deliveries d
                      WHERE d.tenant_id = r.tenant_id AND d.run_id = r.id GROUP BY d.status) s) AS counts,
            (SELECT count(*) FROM deliveries d
              WHERE d.tenant_id = r.tenant_id AND d.run_id = r.id AND d.sent_at IS NOT NULL
                AND d.sent_at > now() - interval '1 minute') AS recent_sent,
            extract(epoch FROM now() - r.started_at)::float8 AS running_s
       FROM campaign_runs r
      WHERE r.tenant_id = $1 AND r.id = $2`,
    [tenantId, id],
  );
  const row = rows[0];
  return row && toRecord(row);
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
    fanoutDone: row.fanout_done,
    ratePerSecond: ratePerSecond(Number(row.recent_sent), row.running_s),
    eta: null,
    etaReason: null,
    forecast: row.forecast,
  };
}

/** Sends over the last minute, per second: over the time since the run started when that is shorter. */
function ratePerSecond(recentSent: number, runningSeconds: number | null): number {
  if (recentSent === 0 || runningSeconds === null) return 0;
  return recentSent / Math.min(60, Math.max(1, runningSeconds));
}
