import { queryRows } from '@herald/persistence';
import type { EntityManager } from 'typeorm';
import type { VariantCounts } from './experiment-verdict';

/** Which step of which campaign: the unit an experiment is counted over. */
export interface ExperimentStep {
  tenantId: string;
  campaignId: string;
  step: number;
}

interface CountRow {
  step: number;
  variant: string;
  sent: string;
  replied: string;
  clicked: string;
  converted: string;
}

/**
 * Per-variant counts of experimenting steps: sends from the ledger (deliveries that went out
 * with a variant) and, from engagement events, the sends that drew at least one reply, human
 * click (prefetchers excluded) or conversion — each send counted once, so a rate is a share of
 * sends. Only sends made since the step's experiment started count: editing a step's variants
 * restarts it (campaign_experiments.started_at, set by a trigger on campaigns). Reads the ledger
 * and the events directly, through their (campaign, variant) indexes: the analytics rollups
 * count all time and cannot tell a send before the restart from one after.
 */
export async function variantCounts(
  db: Pick<EntityManager, 'query'>,
  tenantId: string,
  campaignId: string,
  steps: readonly number[],
): Promise<Map<number, VariantCounts[]>> {
  const rows = queryRows<CountRow>(
    await db.query(
      `WITH started AS (
         SELECT step, started_at FROM campaign_experiments
          WHERE tenant_id = $1 AND campaign_id = $2 AND started_at IS NOT NULL
       ), sent AS (
         SELECT d.step, d.variant, count(*) AS sent
           FROM deliveries d LEFT JOIN started st ON st.step = d.step
          WHERE d.tenant_id = $1 AND d.campaign_id = $2 AND d.step = ANY($3::smallint[])
            AND d.variant IS NOT NULL AND d.status = 'sent'
            AND (st.started_at IS NULL OR d.sent_at >= st.started_at)
          GROUP BY d.step, d.variant
       ), outcomes AS (
         SELECT e.step, e.variant,
                count(DISTINCT e.delivery_id) FILTER (WHERE e.kind = 'replied') AS replied,
                count(DISTINCT e.delivery_id) FILTER (WHERE e.kind = 'clicked') AS clicked,
                count(DISTINCT e.delivery_id) FILTER (WHERE e.kind = 'converted') AS converted
           FROM engagement_events e LEFT JOIN started st ON st.step = e.step
          WHERE e.tenant_id = $1 AND e.campaign_id = $2 AND e.step = ANY($3::smallint[])
            AND e.variant IS NOT NULL AND e.delivery_id IS NOT NULL AND NOT e.machine
            AND e.kind IN ('replied', 'clicked', 'converted')
            AND (st.started_at IS NULL
                 OR EXISTS (SELECT 1 FROM deliveries d
                             WHERE d.tenant_id = e.tenant_id AND d.id = e.delivery_id
                               AND d.sent_at >= st.started_at))
          GROUP BY e.step, e.variant
       )
       SELECT coalesce(s.step, o.step) AS step, coalesce(s.variant, o.variant) AS variant,
              coalesce(s.sent, 0) AS sent, coalesce(o.replied, 0) AS replied,
              coalesce(o.clicked, 0) AS clicked, coalesce(o.converted, 0) AS converted
         FROM sent s FULL JOIN outcomes o ON o.step = s.step AND o.variant = s.variant`,
      [tenantId, campaignId, steps],
    ),
  );
  const byStep = new Map<number, VariantCounts[]>(steps.map((s) => [s, []]));
  for (const r of rows)
    byStep.get(Number(r.step))?.push({
      variant: r.variant,
      sent: Number(r.sent),
      replied: Number(r.replied),
      clicked: Number(r.clicked),
      converted: Number(r.converted),
    });
  return byStep;
}

/**
 * Every variant of a step with its counts, in the step's order (a variant nothing was sent
 * with yet is there with zeros; one no longer in the step, after an edit, is left out).
 */
export function countsInOrder(names: readonly string[], counted: readonly VariantCounts[]): VariantCounts[] {
  return names.map(
    (variant) =>
      counted.find((c) => c.variant === variant) ?? {
        variant,
        sent: 0,
        replied: 0,
        clicked: 0,
        converted: 0,
      },
  );
}
