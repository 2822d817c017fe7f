import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { CampaignValidationError } from '@herald/campaigns';
import { campaignExperiments, type ExperimentResult } from './experiment-results';

/** How many campaigns one beat tick evaluates (the rest at the next tick). */
const EVALUATE_BATCH = 200;

/**
 * A/B/n experiments of campaigns' steps: their results (per-variant counts, z-test, winner),
 * the beat's evaluation that records a winner once the test calls one and, where the step says
 * `auto_promote`, promotes it, and an operator's manual promotion. A promotion is a row in
 * campaign_experiments the delivery pipeline reads with each delivery: from then on every
 * contact gets the promoted variant.
 */
@Injectable()
export class Experiments {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Undefined when the campaign is not the tenant's. */
  async results(tenantId: string, campaignId: string): Promise<ExperimentResult[] | undefined> {
    if (!(await this.exists(this.dataSource.manager, tenantId, campaignId))) return undefined;
    return campaignExperiments(this.dataSource.manager, tenantId, campaignId);
  }

  /**
   * Records each experimenting step's verdict; a winner the first time the test calls one, and
   * with `auto_promote` its promotion (never over an earlier promotion). Idempotent: evaluating
   * again changes only the stored counts. Returns how many steps it promoted.
   */
  async evaluate(tenantId: string, campaignId: string): Promise<number> {
    return this.dataSource.transaction('READ COMMITTED', async (manager) => {
      // One evaluation or promotion of a campaign at a time: a manual promotion is never overtaken.
      const locked = await manager.query<unknown[]>(
        `SELECT 1 FROM campaigns WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
        [tenantId, campaignId],
      );
      if (locked.length === 0) return 0;
      const results = await campaignExperiments(manager, tenantId, campaignId);
      let promoted = 0;
      for (const r of results) {
        const winner = r.verdict.winner;
        const promote = winner !== null && r.settings.auto_promote && r.decision.promotedVariant === null;
        await manager.query(
          `INSERT INTO campaign_experiments AS x (tenant_id, campaign_id, step, winner, decided_at,
             promoted_variant, promoted_by, promoted_at, verdict, evaluated_at)
           VALUES ($1, $2, $3, $4::text, CASE WHEN $4::text IS NULL THEN NULL ELSE now() END,
                   CASE WHEN $5 THEN $4::text END, CASE WHEN $5 THEN 'auto' END, CASE WHEN $5 THEN now() END,
                   $6, now())
           ON CONFLICT (tenant_id, campaign_id, step) DO UPDATE SET
             winner = coalesce(x.winner, excluded.winner),
             decided_at = coalesce(x.decided_at, excluded.decided_at),
             promoted_variant = coalesce(x.promoted_variant, excluded.promoted_variant),
             promoted_by = coalesce(x.promoted_by, excluded.promoted_by),
             promoted_at = coalesce(x.promoted_at, excluded.promoted_at),
             verdict = excluded.verdict, evaluated_at = excluded.evaluated_at`,
          [tenantId, campaignId, r.step, winner, promote, JSON.stringify(r.verdict)],
        );
        if (promote) promoted += 1;
      }
      return promoted;
    });
  }

  /**
   * An operator's choice: `variant` goes to every later delivery of the step (over any earlier
   * promotion). CampaignValidationError naming `step` or `variant` when the step has no such
   * variant; undefined when the campaign is not the tenant's.
   */
  async promote(
    tenantId: string,
    campaignId: string,
    step: number,
    variant: string,
  ): Promise<ExperimentResult | undefined> {
    return this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const [campaign] = await manager.query<{ variants: { name: string }[] | null }[]>(
        `SELECT steps -> $3::int -> 'variants' AS variants FROM campaigns WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
        [tenantId, campaignId, step],
      );
      if (!campaign) return undefined;
      if (!Array.isArray(campaign.variants))
        throw new CampaignValidationError([{ field: 'step', message: `step ${step} has no variants` }]);
      if (!campaign.variants.some((v) => v.name === variant))
        throw new CampaignValidationError([
          {
            field: 'variant',
            message: `must be one of step ${step}'s variants: ${campaign.variants.map((v) => v.name).join(', ')}`,
          },
        ]);
      await manager.query(
        `INSERT INTO campaign_experiments (tenant_id, campaign_id, step, promoted_variant, promoted_by, promoted_at)
         VALUES ($1, $2, $3, $4, 'manual', now())
         ON CONFLICT (tenant_id, campaign_id, step) DO UPDATE SET
           promoted_variant = excluded.promoted_variant, promoted_by = 'manual', promoted_at = now()`,
        [tenantId, campaignId, step, variant],
      );
      const results = await campaignExperiments(manager, tenantId, campaignId);
      return results.find((r) => r.step === step);
    });
  }

  /**
   * The beat's duty: evaluates active campaigns with an experiment still open (a step with
   * variants and no promotion). Returns how many steps it promoted.
   */
  async evaluateOpen(limit = EVALUATE_BATCH): Promise<number> {
    const open = await this.dataSource.query<{ tenant_id: string; id: string }[]>(
      `SELECT g.tenant_id, g.id
         FROM campaigns g
        WHERE g.status = 'active' AND g.steps @? '$[*].variants'
          AND EXISTS (
            SELECT 1 FROM jsonb_array_elements(g.steps) WITH ORDINALITY AS s (value, n)
             WHERE jsonb_typeof(s.value -> 'variants') = 'array'
               AND NOT EXISTS (SELECT 1 FROM campaign_experiments x
                                WHERE x.tenant_id = g.tenant_id AND x.campaign_id = g.id
                                  AND x.step = s.n - 1 AND x.promoted_variant IS NOT NULL))
        ORDER BY g.updated_at
        LIMIT $1`,
      [limit],
    );
    let promoted = 0;
    for (const c of open) promoted += await this.evaluate(c.tenant_id, c.id);
    return promoted;
  }

  private async exists(manager: EntityManager, tenantId: string, campaignId: string): Promise<boolean> {
    const rows = await manager.query<unknown[]>(`SELECT 1 FROM campaigns WHERE tenant_id = $1 AND id = $2`, [
      tenantId,
      campaignId,
    ]);
    return rows.length > 0;
  }
}
