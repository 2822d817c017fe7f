import { queryRows } from '@herald/persistence';
import type { HeraldMetrics } from '@herald/telemetry';
import type { EntityManager } from 'typeorm';

/**
 * Marks queued or running runs cancelled, and their deliveries that wait for a send. Returns the
 * runs it cancelled (kind and trigger, for herald_campaign_runs_total once the caller commits).
 */
export async function cancelRuns(
  manager: EntityManager,
  tenantId: string,
  runIds: readonly string[],
  reason: string,
): Promise<{ id: string; kind: string; trigger: string }[]> {
  if (runIds.length === 0) return [];
  const cancelled = queryRows<{ id: string; kind: string; trigger: string }>(
    await manager.query(
      `UPDATE campaign_runs r SET status = 'cancelled', finished_at = now()
         FROM campaigns g
        WHERE r.tenant_id = $1 AND r.id = ANY ($2::uuid[]) AND r.status IN ('queued', 'running')
          AND g.tenant_id = r.tenant_id AND g.id = r.campaign_id
        RETURNING r.id, g.kind, r.trigger`,
      [tenantId, runIds],
    ),
  );
  if (cancelled.length === 0) return [];
  await manager.query(
    `UPDATE deliveries SET status = 'cancelled', last_error = $3, lease_until = NULL, updated_at = now()
      WHERE tenant_id = $1 AND run_id = ANY ($2::uuid[]) AND status IN ('pending', 'deferred')`,
    [tenantId, cancelled.map((r) => r.id), reason],
  );
  return cancelled;
}

/** Counts cancelled runs (after their transaction committed). */
export function countCancelled(
  metrics: HeraldMetrics,
  runs: readonly { kind: string; trigger: string }[],
): void {
  for (const r of runs) metrics.campaignRuns.inc({ kind: r.kind, trigger: r.trigger, outcome: 'cancelled' });
}
