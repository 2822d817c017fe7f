import { Inject, Injectable } from '@nestjs/common';
import { allocationPointSql, audiencePage, type AudienceSpec, type MessageVariant } from '@herald/deliveries';
import { CLOCK, type Clock } from '@herald/time';
import type { EntityManager } from 'typeorm';
import type { Audience, CampaignKind, CampaignStatus } from '../campaign-fields';
import { countByDay, localDay, planQuota, summarise } from '../forecast';
import { planInput, QuotaBasis, type BasisCampaign, type ForecastBasis } from './quota-basis';
import { suppressedSql } from './suppressed-sql';

/** A dry run's forecast, as stored in `campaign_runs.forecast`. */
export interface RunForecast {
  /** Contacts the audience matched at the dry run's instant. */
  audience: number;
  /** Contacts that would be sent to: the audience less what is left out below. */
  targeted: number;
  /** Contacts whose delivery key is already in the ledger (a birthday greeted this year). */
  already_sent_keys: number;
  /** Contacts left out: suppressed, beyond the run cap, or without quota room (skip policy, or a 0 limit). */
  skipped: { suppressed: number; run_cap: number; quota: number };
  /** Deliveries per local date of the sender account's zone. */
  by_day: { date: string; count: number }[];
  /** When the last one may go out. */
  finishes_at: string | null;
  summary: string;
  /**
   * The step's A/B/n split (absent without variants): contacts per variant among those the run
   * would send to before the run cap and quota, by the pipeline's own allocation; all to the
   * promoted variant once one is.
   */
  variants?: { promoted: string | null; split: { variant: string; weight: number; contacts: number }[] };
  /** What the plan was made from: recipients' due times are recomputed from it, page by page. */
  basis: ForecastBasis;
}

/** The campaign fields a run is started and forecast from. */
export interface CampaignForRun extends BasisCampaign {
  kind: CampaignKind;
  status: CampaignStatus;
  audience: Audience;
  tenant_zone: string;
  run_cap: number | null;
}

/** Every contact of an audience, for counting (a page size no tenant reaches). */
const WHOLE_AUDIENCE = 2_147_483_647;

/**
 * Who a run would reach now and when: the audience less keys already in the ledger, suppressed
 * contacts, the run cap, then the account's quota windows (from what they hold right now).
 */
@Injectable()
export class RunForecaster {
  constructor(
    private readonly basis: QuotaBasis,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async forecast(
    manager: EntityManager,
    tenantId: string,
    campaignId: string,
    runId: string,
    campaign: CampaignForRun,
  ): Promise<RunForecast> {
    const nowMs = this.clock.nowMs();
    const spec: AudienceSpec = {
      tenantId,
      kind: campaign.kind,
      audience: campaign.audience,
      campaignId,
      runId,
      tenantZone: campaign.tenant_zone,
      at: new Date(nowMs),
    };
    const page = audiencePage(spec, null, WHOLE_AUDIENCE);
    const t = page.params.length + 1;
    // A broadcast's keys name this run: none can be in the ledger yet.
    const sentBefore =
      campaign.kind === 'birthday'
        ? `EXISTS (SELECT 1 FROM deliveries d WHERE d.tenant_id = $${t} AND d.delivery_key = p.delivery_key)`
        : 'false';
    const [counts] = await manager.query<{ audience: string; already: string; suppressed: string }[]>(
      `WITH raw AS (${page.raw}), page AS (${page.select})
       SELECT count(*) AS audience,
              count(*) FILTER (WHERE k.sent_before) AS already,
              count(*) FILTER (WHERE NOT k.sent_before AND k.suppressed) AS suppressed
         FROM page p
         JOIN contacts c ON c.tenant_id = $${t} AND c.id = p.id
         CROSS JOIN LATERAL (SELECT ${sentBefore} AS sent_before, ${suppressedSql(t)} AS suppressed) k`,
      [...page.params, tenantId],
    );
    const variants = await this.variantSplit(manager, tenantId, campaignId, page, t, sentBefore);
    const audience = Number(counts?.audience ?? 0);
    const already = Number(counts?.already ?? 0);
    const suppressed = Number(counts?.suppressed ?? 0);
    const eligible = audience - already - suppressed;
    const capped = Math.min(eligible, campaign.run_cap ?? Infinity);
    const basis = await this.basis.at(tenantId, campaign, nowMs);
    const plan = planQuota(planInput(basis, capped));
    const byDay = countByDay(plan, basis.zone);
    const skipped = { suppressed, run_cap: eligible - capped, quota: plan.unplaced };
    return {
      audience,
      targeted: plan.placed,
      already_sent_keys: already,
      skipped,
      by_day: byDay,
      finishes_at: plan.lastAtMs === null ? null : new Date(plan.lastAtMs).toISOString(),
      summary: summarise({
        targeted: plan.placed,
        byDay,
        today: localDay(basis.zone, nowMs),
        leftOut: {
          'already sent': already,
          suppressed,
          'over the run cap': skipped.run_cap,
          'without quota room': skipped.quota,
        },
      }),
      ...(variants ? { variants } : {}),
      basis,
    };
  }

  /** The first step's variant split over the contacts the run would reach (see RunForecast.variants). */
  private async variantSplit(
    manager: EntityManager,
    tenantId: string,
    campaignId: string,
    page: ReturnType<typeof audiencePage>,
    t: number,
    sentBefore: string,
  ): Promise<RunForecast['variants']> {
    const [step] = await manager.query<{ variants: MessageVariant[] | null; promoted: string | null }[]>(
      `SELECT g.steps -> 0 -> 'variants' AS variants, x.promoted_variant AS promoted
         FROM campaigns g
         LEFT JOIN campaign_experiments x ON x.tenant_id = g.tenant_id AND x.campaign_id = g.id AND x.step = 0
        WHERE g.tenant_id = $1 AND g.id = $2`,
      [tenantId, campaignId],
    );
    const list = step?.variants;
    if (!Array.isArray(list) || list.length === 0) return undefined;
    const promoted = list.some((v) => v.name === step!.promoted) ? step!.promoted : null;
    const total = list.reduce((sum, v) => sum + v.weight, 0);
    // The same weight bands as pickVariant, over the same 32 bits of the same hash.
    let upper = 0;
    const bands = list.map((v, i) => {
      upper += v.weight;
      return `WHEN point < ${upper} THEN ${i}`;
    });
    const c = page.params.length + 2;
    const rows = await manager.query<{ band: number; n: string }[]>(
      `WITH raw AS (${page.raw}), page AS (${page.select})
       SELECT CASE ${bands.join(' ')} ELSE ${list.length - 1} END AS band, count(*) AS n
         FROM page p
         JOIN contacts c ON c.tenant_id = $${t} AND c.id = p.id
         CROSS JOIN LATERAL (SELECT ${allocationPointSql('p.id', `$${c}::uuid`, '0', total)} AS point) a
        WHERE NOT (${sentBefore}) AND NOT ${suppressedSql(t)}
        GROUP BY 1`,
      [...page.params, tenantId, campaignId],
    );
    const counted = new Map(rows.map((r) => [Number(r.band), Number(r.n)]));
    const all = [...counted.values()].reduce((sum, n) => sum + n, 0);
    return {
      promoted,
      split: list.map((v, i) => ({
        variant: v.name,
        weight: v.weight,
        contacts: promoted === null ? (counted.get(i) ?? 0) : v.name === promoted ? all : 0,
      })),
    };
  }
}
