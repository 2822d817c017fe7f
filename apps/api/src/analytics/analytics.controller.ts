import { Controller, Get, Param, Query, Req, StreamableFile } from '@nestjs/common';
import { AnalyticsReader, type AnalyticsRange } from '@herald/engagement';
import type { TenantPrincipal } from '@herald/tenants';
import type { Request } from 'express';
import { Readable } from 'node:stream';
import type { z } from 'zod';
import { TenantKey } from '../http/access';
import { campaignIdParams } from '../engine/campaigns.schemas';
import { ApiRoute } from '../http/openapi';
import { ProblemException } from '../http/problem';
import { IdPipe, notFound, ZodPipe } from '../http/validation.pipes';
import { campaignCsv, funnelCsv } from './analytics-csv';
import { AnalyticsScope } from './analytics-scope';
import {
  campaignAnalyticsQuery,
  campaignAnalyticsView,
  DEFAULT_RANGE_DAYS,
  EXAMPLE_CAMPAIGN_ANALYTICS,
  EXAMPLE_CAMPAIGN_CSV,
  EXAMPLE_FUNNEL,
  EXAMPLE_FUNNEL_CSV,
  funnelQuery,
  funnelView,
  MAX_RANGE_DAYS,
  rangeProblem,
} from './analytics.schemas';

const RANGE_TEXT = `The range is of local days in the tenant’s zone, \`from\` and \`to\` inclusive (default: the last ${DEFAULT_RANGE_DAYS} days ending today; at most ${MAX_RANGE_DAYS} days).`;
const CSV_TEXT =
  'With `Accept: text/csv` or `?format=csv` the same figures come as a CSV download (header row, CRLF).';
const FRESHNESS_TEXT =
  'Read from the rollups (maintained as messages are sent and events recorded; the latest changes included), never the ledger: the cost does not grow with the campaign’s size.';

/** The analytics of issue 12: a campaign's counts and the funnel, as JSON or CSV. */
@Controller('v1/analytics')
export class AnalyticsController {
  constructor(
    private readonly reader: AnalyticsReader,
    private readonly scope: AnalyticsScope,
  ) {}

  @Get('campaigns/:id')
  @ApiRoute({
    id: 'analytics.campaign',
    tag: 'analytics',
    access: 'read',
    summary: 'A campaign’s analytics',
    description: [
      'What happened to a campaign’s messages: targeted, sent, delivered, bounced, complained, opened, clicked, replied, unsubscribed (each message counted once per kind, on the day of its first such event; opens and clicks by prefetchers and scanners not counted), converted and revenue per currency;',
      'totals and rows grouped `by` local day (default), step, A/B variant or sender account — a group with nothing to count is not a row. By variant, a message whose variant is not chosen yet (it is, when the message is rendered) and every message of a step without variants count under `variant: null`.',
      RANGE_TEXT,
      FRESHNESS_TEXT,
      CSV_TEXT,
    ].join(' '),
    params: campaignIdParams,
    query: campaignAnalyticsQuery,
    success: {
      status: 200,
      description: 'The campaign’s counts.',
      schema: 'CampaignAnalytics',
      example: EXAMPLE_CAMPAIGN_ANALYTICS,
      csvExample: EXAMPLE_CAMPAIGN_CSV,
    },
  })
  async campaign(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('campaign')) id: string,
    @Query(new ZodPipe(campaignAnalyticsQuery, 'query')) query: z.output<typeof campaignAnalyticsQuery>,
    @Req() req: Request,
  ) {
    const range = await this.range(principal.tenantId, query);
    if (!(await this.scope.campaignExists(principal.tenantId, id))) throw notFound('campaign', id);
    const analytics = await this.reader.campaign(principal.tenantId, id, query.by ?? 'day', range);
    if (wantsCsv(req, query.format))
      return csvFile(campaignCsv(analytics), `campaign-${id}-${analytics.by}-${range.from}-${range.to}.csv`);
    return campaignAnalyticsView(analytics);
  }

  @Get('funnel')
  @ApiRoute({
    id: 'analytics.funnel',
    tag: 'analytics',
    access: 'read',
    summary: 'The funnel',
    description: [
      'From a sourced lead to a conversion: candidates sourced (by the day they were found), of those the ones that became contacts, then messages sent, delivered, replied to, and conversions with their revenue per currency —',
      'the whole tenant’s, or one campaign’s with `campaign_id` (404 naming it when it is not the tenant’s; the sourcing stages are then null).',
      RANGE_TEXT,
      FRESHNESS_TEXT,
      CSV_TEXT,
    ].join(' '),
    query: funnelQuery,
    success: {
      status: 200,
      description: 'The funnel’s stages.',
      schema: 'Funnel',
      example: EXAMPLE_FUNNEL,
      csvExample: EXAMPLE_FUNNEL_CSV,
    },
    problems: ['not-found'],
  })
  async funnel(
    @TenantKey() principal: TenantPrincipal,
    @Query(new ZodPipe(funnelQuery, 'query')) query: z.output<typeof funnelQuery>,
    @Req() req: Request,
  ) {
    const range = await this.range(principal.tenantId, query);
    if (query.campaign_id && !(await this.scope.campaignExists(principal.tenantId, query.campaign_id)))
      throw ProblemException.of('not-found', 'No such campaign.', [
        { field: 'campaign_id', message: 'names no campaign of this tenant' },
      ]);
    const funnel = await this.reader.funnel(principal.tenantId, range, {
      campaignId: query.campaign_id ?? null,
    });
    if (wantsCsv(req, query.format))
      return csvFile(funnelCsv(funnel), `funnel-${range.from}-${range.to}.csv`);
    return funnelView(funnel);
  }

  /** The query's range with the defaults of the tenant's today; 400 naming the field when it is not a range. */
  private async range(tenantId: string, query: { from?: string; to?: string }): Promise<AnalyticsRange> {
    let { from, to } = query;
    if (from === undefined || to === undefined) {
      const { today, before } = await this.scope.today(tenantId, DEFAULT_RANGE_DAYS - 1);
      to ??= today;
      from ??= query.to === undefined ? before : shiftDays(to, -(DEFAULT_RANGE_DAYS - 1));
    }
    const bad = rangeProblem(from, to);
    if (bad) throw ProblemException.of('validation-failed', 'The query string is invalid.', [bad]);
    return { from, to };
  }
}

function shiftDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

function wantsCsv(req: Request, format: 'json' | 'csv' | undefined): boolean {
  if (format) return format === 'csv';
  return req.accepts(['application/json', 'text/csv']) === 'text/csv';
}

function csvFile(lines: Iterable<string>, filename: string): StreamableFile {
  return new StreamableFile(Readable.from(lines), {
    type: 'text/csv; charset=utf-8',
    disposition: `attachment; filename="${filename}"`,
  });
}
