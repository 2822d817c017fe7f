import {
  ROLLUP_COUNTERS,
  type AnalyticsCounts,
  type CampaignAnalytics,
  type Funnel,
} from '@herald/engagement';

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A text that a
 * spreadsheet would run as a formula (=, +, -, @ first: a tenant's variant name) gets a
 * leading apostrophe. Hand-written: only csv-parse is installed, and this is all it takes.
 */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const line = (fields: (string | number | null | undefined)[]) => `${fields.map(csvField).join(',')}\r\n`;

const GROUP_COLUMN = {
  day: 'day',
  step: 'step',
  variant: 'variant',
  sender_account: 'sender_account_id',
} as const;

/** A campaign's rows as CSV, a line at a time: the grouping's column, the counters, one revenue column per currency. */
export function* campaignCsv(a: CampaignAnalytics): Generator<string> {
  const currencies = Object.keys(a.totals.revenue).sort();
  yield line([GROUP_COLUMN[a.by], ...ROLLUP_COUNTERS, ...currencies.map((c) => `revenue_${c}`)]);
  for (const row of a.rows) {
    const group =
      a.by === 'day'
        ? row.day
        : a.by === 'step'
          ? row.step
          : a.by === 'variant'
            ? row.variant
            : row.senderAccountId;
    yield line([group, ...counters(row), ...currencies.map((c) => row.revenue[c] ?? '0.0000')]);
  }
}

function counters(c: AnalyticsCounts): number[] {
  return ROLLUP_COUNTERS.map((k) => c[k]);
}

/** The funnel as CSV: one line per stage (empty count: not applicable), then revenue per currency. */
export function* funnelCsv(f: Funnel): Generator<string> {
  yield line(['stage', 'count']);
  for (const stage of ['sourced', 'contacts', 'sent', 'delivered', 'replied', 'converted'] as const)
    yield line([stage, f[stage]]);
  for (const currency of Object.keys(f.revenue).sort())
    yield line([`revenue_${currency}`, f.revenue[currency]]);
}
