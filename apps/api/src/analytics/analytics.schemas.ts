import {
  CAMPAIGN_GROUPINGS,
  ROLLUP_COUNTERS,
  type AnalyticsCounts,
  type AnalyticsRow,
  type CampaignAnalytics,
  type Funnel,
} from '@herald/engagement';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { named } from '../http/openapi';

/** The longest range one request may cover (a year and a day: a leap year's full range). */
export const MAX_RANGE_DAYS = 366;
/** Without from/to: this many local days ending today. */
export const DEFAULT_RANGE_DAYS = 30;

const localDate = z.string().refine((v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && DateTime.fromISO(v).isValid, {
  message: 'must be a date, YYYY-MM-DD',
});

const rangeFields = {
  from: localDate.optional().meta({
    description: `First local day (tenant’s zone), inclusive. Default: ${DEFAULT_RANGE_DAYS} days before \`to\`.`,
  }),
  to: localDate
    .optional()
    .meta({ description: 'Last local day (tenant’s zone), inclusive. Default: today.' }),
  format: z
    .enum(['json', 'csv'], { error: 'must be json or csv' })
    .optional()
    .meta({ description: 'csv: the same as `Accept: text/csv`, a CSV download (streamed).' }),
};

/** from ≤ to and at most MAX_RANGE_DAYS: checked once both are known (defaults applied). */
export function rangeProblem(from: string, to: string): { field: string; message: string } | null {
  const days = DateTime.fromISO(to).diff(DateTime.fromISO(from), 'days').days + 1;
  if (days < 1) return { field: 'from', message: 'must not be after to' };
  if (days > MAX_RANGE_DAYS)
    return { field: 'to', message: `must be at most ${MAX_RANGE_DAYS} days after from` };
  return null;
}

export const campaignAnalyticsQuery = z.strictObject({
  by: z
    .enum(CAMPAIGN_GROUPINGS, { error: `must be one of ${CAMPAIGN_GROUPINGS.join(', ')}` })
    .optional()
    .meta({ description: 'Group rows by local day (default), step, A/B variant or sender account.' }),
  ...rangeFields,
});

export const funnelQuery = z.strictObject({
  campaign_id: z
    .uuid('must be a UUID')
    .transform((v) => v.toLowerCase())
    .optional()
    .meta({ description: 'Only this campaign’s messages (the sourcing stages are then null).' }),
  ...rangeFields,
});

const count = (description: string) => z.number().int().meta({ description });
const revenue = z.record(z.string(), z.string()).meta({
  description:
    'Revenue of the conversions per ISO 4217 currency, as decimal strings (never summed across currencies).',
});

const COUNT_DESCRIPTIONS: Record<(typeof ROLLUP_COUNTERS)[number], string> = {
  targeted: 'Messages created for the campaign (the ledger’s deliveries), on the day they were created.',
  sent: 'Messages sent, on the day they were sent.',
  delivered: 'Messages a provider reported delivered.',
  bounced: 'Messages that bounced (hard or soft).',
  complained: 'Messages reported as spam.',
  opened: 'Messages opened by a person (prefetchers and scanners not counted).',
  clicked: 'Messages with a link clicked by a person.',
  replied: 'Messages replied to.',
  unsubscribed: 'Messages whose recipient unsubscribed.',
  converted: 'Conversions attributed to the campaign’s messages (each one counts).',
};
const countsShape = {
  ...Object.fromEntries(ROLLUP_COUNTERS.map((c) => [c, count(COUNT_DESCRIPTIONS[c])])),
  revenue,
} as Record<(typeof ROLLUP_COUNTERS)[number], ReturnType<typeof count>> & { revenue: typeof revenue };

export const AnalyticsCountsSchema = named('AnalyticsCounts', z.object(countsShape));

export const CampaignAnalyticsSchema = named(
  'CampaignAnalytics',
  z.object({
    campaign_id: z.uuid(),
    by: z.enum(CAMPAIGN_GROUPINGS),
    from: z.string(),
    to: z.string(),
    totals: AnalyticsCountsSchema,
    rows: z
      .array(
        z.object({
          ...countsShape,
          day: z.string().optional().meta({ description: 'by=day: the local day.' }),
          step: z.number().int().nullable().optional().meta({ description: 'by=step: the step (0-based).' }),
          variant: z
            .string()
            .nullable()
            .optional()
            .meta({ description: 'by=variant: the variant (null: none).' }),
          sender_account_id: z.uuid().nullable().optional().meta({ description: 'by=sender_account.' }),
        }),
      )
      .meta({ description: 'One row per group with anything counted, in the grouping’s order.' }),
  }),
);

export const FunnelSchema = named(
  'Funnel',
  z.object({
    campaign_id: z.uuid().nullable(),
    from: z.string(),
    to: z.string(),
    sourced: count('Candidates found by sourcing runs (null for one campaign).').nullable(),
    contacts: count('Of those candidates, the ones that became contacts (null for one campaign).').nullable(),
    sent: count('Messages sent.'),
    delivered: count('Messages delivered.'),
    replied: count('Messages replied to.'),
    converted: count('Conversions.'),
    revenue,
  }),
);

function countsView(c: AnalyticsCounts) {
  return { ...Object.fromEntries(ROLLUP_COUNTERS.map((k) => [k, c[k]])), revenue: c.revenue };
}

function rowGroup(by: CampaignAnalytics['by'], row: AnalyticsRow) {
  switch (by) {
    case 'day':
      return { day: row.day };
    case 'step':
      return { step: row.step ?? null };
    case 'variant':
      return { variant: row.variant ?? null };
    case 'sender_account':
      return { sender_account_id: row.senderAccountId ?? null };
  }
}

export function campaignAnalyticsView(a: CampaignAnalytics) {
  return {
    campaign_id: a.campaignId,
    by: a.by,
    from: a.range.from,
    to: a.range.to,
    totals: countsView(a.totals),
    rows: a.rows.map((row) => ({ ...rowGroup(a.by, row), ...countsView(row) })),
  };
}

export function funnelView(f: Funnel) {
  return {
    campaign_id: f.campaignId,
    from: f.range.from,
    to: f.range.to,
    sourced: f.sourced,
    contacts: f.contacts,
    sent: f.sent,
    delivered: f.delivered,
    replied: f.replied,
    converted: f.converted,
    revenue: f.revenue,
  };
}

const EXAMPLE_COUNTS = {
  targeted: 1200,
  sent: 1180,
  delivered: 1150,
  bounced: 30,
  complained: 1,
  opened: 610,
  clicked: 140,
  replied: 52,
  unsubscribed: 9,
  converted: 7,
  revenue: { EUR: '2450.0000' },
};
export const EXAMPLE_CAMPAIGN_ANALYTICS = {
  campaign_id: '0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f',
  by: 'day',
  from: '2026-11-01',
  to: '2026-11-30',
  totals: EXAMPLE_COUNTS,
  rows: [{ day: '2026-11-03', ...EXAMPLE_COUNTS }],
};
export const EXAMPLE_FUNNEL = {
  campaign_id: null,
  from: '2026-11-01',
  to: '2026-11-30',
  sourced: 5000,
  contacts: 1400,
  sent: 1180,
  delivered: 1150,
  replied: 52,
  converted: 7,
  revenue: { EUR: '2450.0000' },
};
export const EXAMPLE_CAMPAIGN_CSV =
  'day,targeted,sent,delivered,bounced,complained,opened,clicked,replied,unsubscribed,converted,revenue_EUR\r\n' +
  '2026-11-03,1200,1180,1150,30,1,610,140,52,9,7,2450.0000\r\n';
export const EXAMPLE_FUNNEL_CSV =
  'stage,count\r\nsourced,5000\r\ncontacts,1400\r\nsent,1180\r\ndelivered,1150\r\nreplied,52\r\nconverted,7\r\nrevenue_EUR,2450.0000\r\n';
