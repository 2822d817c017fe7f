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
 * sends. The analytics rollups (issue 12 item 6) will serve the same numbers; until they are
 * merged this reads the ledger and the events directly, through their (campaign, variant) indexes.
 */
export async function variantCounts(
  db: Pick<EntityManager, 'query'>,
  tenantId: string,
  campaignId: string,
  steps: readonly number[],
): Promise<Map<number, VariantCounts[]>> {
  const rows = queryRows<CountRow>(
    await db.query(
      `WITH sent AS (
         SELECT step, variant, count(*) AS sent
           FROM deliveries
          WHERE tenant_id = $1 AND campaign_id = $2 AND step = ANY($3::smallint[])
            AND variant IS NOT NULL AND status = 'sent'
          GROUP BY step, variant
       ), outcomes AS (
         SELECT step, variant,
                count(DISTINCT delivery_id) FILTER (WHERE kind = 'replied') AS replied,
                count(DISTINCT delivery_id) FILTER (WHERE kind = 'clicked') AS clicked,
                count(DISTINCT delivery_id) FILTER (WHERE kind = 'converted') AS converted
           FROM engagement_events
          WHERE tenant_id = $1 AND campaign_id = $2 AND step = ANY($3::smallint[])
            AND variant IS NOT NULL AND delivery_id IS NOT NULL AND NOT machine
            AND kind IN ('replied', 'clicked', 'converted')
          GROUP BY step, variant
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
