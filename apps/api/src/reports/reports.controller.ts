import {
  Body,
  Catch,
  Controller,
  Get,
  Put,
  Query,
  Req,
  Res,
  UseFilters,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import {
  lastCompletedWeek,
  ReportSettingsError,
  WeeklyReports,
  type ReportSettingsInput,
} from '@herald/engagement';
import type { TenantPrincipal } from '@herald/tenants';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { TenantKey } from '../http/access';
import { ApiRoute } from '../http/openapi';
import { problem, ProblemException, sendProblem } from '../http/problem';
import { ZodPipe } from '../http/validation.pipes';
import {
  EXAMPLE_REPORT,
  EXAMPLE_SETTINGS,
  reportSettingsBody,
  settingsView,
  weeklyReportQuery,
} from './reports.schemas';

/** Report settings naming an account the tenant does not have (404), or of the wrong channel (400). */
@Catch(ReportSettingsError)
class ReportSettingsErrorFilter implements ExceptionFilter {
  catch(exception: ReportSettingsError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const errors = [{ field: exception.field, message: exception.message }];
    sendProblem(
      res,
      exception.kind === 'not-found'
        ? problem('not-found', 'No such sender account.', errors)
        : problem('validation-failed', 'The request body is invalid.', errors),
    );
  }
}

@Controller('v1/reports')
@UseFilters(ReportSettingsErrorFilter)
export class ReportsController {
  constructor(private readonly reports: WeeklyReports) {}

  @Get('weekly')
  @ApiRoute({
    id: 'reports.weekly',
    tag: 'reports',
    access: 'read',
    summary: 'The weekly report',
    description: [
      'The tenant’s ISO week (in its time zone, Monday to Monday): each campaign’s funnel (sent, delivered, opened, clicked, replied, converted, unsubscribed: each delivery counted once per kind, prefetchers left out) with its experiments and their winners, deliverability per sender account (bounce and complaint rates over sends), and the week day by day.',
      'JSON by default; with `Accept: text/html` the HTML the weekly email carries (an inline SVG chart of sends and replies per day). The same report goes out every Monday morning in the tenant’s zone where PUT /v1/reports/settings turned it on.',
    ].join(' '),
    query: weeklyReportQuery,
    success: { status: 200, description: 'The report.', schema: 'WeeklyReport', example: EXAMPLE_REPORT },
  })
  async weekly(
    @TenantKey() principal: TenantPrincipal,
    @Query(new ZodPipe(weeklyReportQuery, 'query')) query: z.output<typeof weeklyReportQuery>,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const week = query.week ?? lastCompletedWeek(new Date(), principal.tenantTimeZone);
    const report = await this.reports.build(principal.tenantId, week);
    if (!report)
      throw ProblemException.of('validation-failed', 'The query string is invalid.', [
        { field: 'week', message: `${week} is not a week of its year` },
      ]);
    if (req.accepts(['application/json', 'text/html']) === 'text/html') {
      res.type('text/html; charset=utf-8');
      return this.reports.render(report).html;
    }
    return report;
  }

  @Get('settings')
  @ApiRoute({
    id: 'reports.settings.get',
    tag: 'reports',
    access: 'read',
    summary: 'Where the weekly report goes',
    description:
      '`delivery` off (the default), email (through an smtp sender account, to `recipients`) or webhook (to a webhook sender account’s URL, signed like deliveries).',
    success: {
      status: 200,
      description: 'The settings.',
      schema: 'ReportSettings',
      example: EXAMPLE_SETTINGS,
    },
  })
  async settings(@TenantKey() principal: TenantPrincipal) {
    return settingsView(await this.reports.settings(principal.tenantId));
  }

  @Put('settings')
  @ApiRoute({
    id: 'reports.settings.put',
    tag: 'reports',
    access: 'write',
    summary: 'Set where the weekly report goes',
    description:
      'Replaces the settings. `email` needs an smtp sender account of the tenant and 1 to 20 `recipients`; `webhook` a webhook sender account (the report is POSTed to its URL as JSON, signed with its secret, `Idempotency-Key: weekly-report:<tenant>:<week>`); `off` stops the reports. 404 naming `sender_account_id` when it is not the tenant’s; 400 when its channel does not fit.',
    body: {
      schema: reportSettingsBody,
      example: {
        delivery: 'email',
        sender_account_id: EXAMPLE_SETTINGS.sender_account_id,
        recipients: ['team@example.com'],
      },
    },
    success: {
      status: 200,
      description: 'The settings now.',
      schema: 'ReportSettings',
      example: EXAMPLE_SETTINGS,
    },
    problems: ['not-found'],
  })
  async saveSettings(
    @TenantKey() principal: TenantPrincipal,
    @Body(new ZodPipe(reportSettingsBody, 'body')) body: ReportSettingsInput,
  ) {
    return settingsView(await this.reports.saveSettings(principal.tenantId, body));
  }
}
