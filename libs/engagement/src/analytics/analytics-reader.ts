import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  ROLLUP_COUNTERS,
  type AnalyticsCounts,
  type AnalyticsRange,
  type AnalyticsRow,
  type CampaignAnalytics,
  type CampaignGrouping,
  type Funnel,
} from './analytics-types';
import { VALUE_COLUMNS } from './rollup-columns';

const GROUP_EXPRESSIONS: Record<CampaignGrouping, string> = {
  day: `to_char(day, 'YYYY-MM-DD')`,
  step: `step::text`,
  variant: `variant`,
  sender_account: `sender_account_id::text`,
};

/**
 * A group is a row only when it counts something: a delivery's contribution moves between
 * groups (fan-out leaves the variant null, render sets it; a sender account may change), leaving
 * signed deltas that cancel to zero under the key it left — not a group a reader asked about.
 */
const ANY_NONZERO = VALUE_COLUMNS.map((c) => `sum(${c}) <> 0`).join(' OR ');

/** Both tables' rows of a scope: the folded ones and the deltas not folded yet (one snapshot). */
function rollupsAndDeltas(where: string): string {
  const columns = `day, step, variant, sender_account_id, currency, ${VALUE_COLUMNS.join(', ')}`;
  return `(SELECT ${columns} FROM analytics_rollups WHERE ${where}
           UNION ALL
           SELECT ${columns} FROM analytics_deltas WHERE ${where}) AS x`;
}

type SumRow = { grp: string | null; currency: string | null; revenue: string } & Record<
  (typeof VALUE_COLUMNS)[number],
  string
>;

export function zeroCounts(): AnalyticsCounts {
  const counts = { revenue: {} } as AnalyticsCounts;
  for (const c of ROLLUP_COUNTERS) counts[c] = 0;
  return counts;
}

/** Adds a (group, currency) sum row into counts; revenue kept per currency as a decimal string. */
function addInto(counts: AnalyticsCounts, row: SumRow): void {
  for (const c of ROLLUP_COUNTERS) counts[c] += Number(row[c]);
  if (row.currency !== null) {
    const before = counts.revenue[row.currency];
    counts.revenue[row.currency] = before === undefined ? row.revenue : addDecimals(before, row.revenue);
  }
}

/** Sums two numeric(24,4) strings exactly (scaled bigints: no float rounding). */
function addDecimals(a: string, b: string): string {
  const scaled = (v: string) => {
    const [whole, frac = ''] = v.split('.');
    const negative = whole!.startsWith('-');
    const units = BigInt(whole!.replace('-', '') + frac.padEnd(4, '0').slice(0, 4));
    return negative ? -units : units;
  };
  const sum = scaled(a) + scaled(b);
  const abs = sum < 0n ? -sum : sum;
  const text = abs.toString().padStart(5, '0');
  return `${sum < 0n ? '-' : ''}${text.slice(0, -4)}.${text.slice(-4)}`;
}

/**
 * Reads the rollups (folded rows plus the deltas not folded yet): never the ledger or the
 * events, so a read costs the same for 1,000 or 1,000,000 deliveries — an index range of a
 * campaign's days, a few rows per day × step × variant × account.
 */
@Injectable()
export class AnalyticsReader {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A campaign's counts in a range of the tenant's local days, grouped; an unknown campaign reads as zeros. */
  async campaign(
    tenantId: string,
    campaignId: string,
    by: CampaignGrouping,
    range: AnalyticsRange,
  ): Promise<CampaignAnalytics> {
    const grp = GROUP_EXPRESSIONS[by];
    const rows = await this.dataSource.query<SumRow[]>(
      `SELECT ${grp} AS grp, currency, ${VALUE_COLUMNS.map((c) => `sum(${c}) AS ${c}`).join(', ')}
         FROM ${rollupsAndDeltas(`tenant_id = $1 AND campaign_id = $2 AND day BETWEEN $3::date AND $4::date`)}
        GROUP BY ${grp}, currency
       HAVING ${ANY_NONZERO}
        ORDER BY ${by === 'day' || by === 'step' ? `min(${by === 'day' ? 'day' : 'step'})` : 'grp'} NULLS LAST, currency NULLS FIRST`,
      [tenantId, campaignId, range.from, range.to],
    );
    const totals = zeroCounts();
    const groups = new Map<string | null, AnalyticsRow>();
    for (const row of rows) {
      addInto(totals, row);
      let group = groups.get(row.grp);
      if (!group) {
        group = { ...groupField(by, row.grp), ...zeroCounts() };
        groups.set(row.grp, group);
      }
      addInto(group, row);
    }
    return { campaignId, by, range, totals, rows: [...groups.values()] };
  }

  /** sourced → contacts → sent → delivered → replied → converted, tenant-wide or for one campaign. */
  async funnel(
    tenantId: string,
    range: AnalyticsRange,
    options: { campaignId?: string | null } = {},
  ): Promise<Funnel> {
    const campaignId = options.campaignId ?? null;
    const rows = await this.dataSource.query<SumRow[]>(
      `SELECT NULL AS grp, currency, ${VALUE_COLUMNS.map((c) => `sum(${c}) AS ${c}`).join(', ')}
         FROM ${rollupsAndDeltas(
           `tenant_id = $1 AND day BETWEEN $2::date AND $3::date AND ($4::uuid IS NULL OR campaign_id = $4::uuid)`,
         )}
        GROUP BY currency ORDER BY currency NULLS FIRST`,
      [tenantId, range.from, range.to, campaignId],
    );
    const counts = zeroCounts();
    let sourced = 0;
    let contacts = 0;
    for (const row of rows) {
      addInto(counts, row);
      sourced += Number(row.sourced);
      contacts += Number(row.contacts);
    }
    return {
      range,
      campaignId,
      sourced: campaignId ? null : sourced,
      contacts: campaignId ? null : contacts,
      sent: counts.sent,
      delivered: counts.delivered,
      replied: counts.replied,
      converted: counts.converted,
      revenue: counts.revenue,
    };
  }
}

function groupField(by: CampaignGrouping, value: string | null): Partial<AnalyticsRow> {
  switch (by) {
    case 'day':
      return { day: value! };
    case 'step':
      return { step: value === null ? null : Number(value) };
    case 'variant':
      return { variant: value };
    case 'sender_account':
      return { senderAccountId: value };
  }
}
