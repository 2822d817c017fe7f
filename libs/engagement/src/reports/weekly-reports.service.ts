import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ReportSettingsError, type ReportSettings, type ReportSettingsInput } from './report-settings';
import { weeklyReportHtml, weeklyReportText } from './report-html';
import { ReportSender, type RenderedReport } from './report-sender';
import { buildWeeklyReport, type WeeklyReport } from './weekly-report';

interface SettingsRow {
  delivery: ReportSettings['delivery'];
  sender_account_id: string | null;
  recipients: string[];
  updated_at: Date;
}

const CHANNEL_OF = { email: 'smtp', webhook: 'webhook' } as const;

/**
 * A tenant's weekly reports: built on demand (the API), rendered (HTML with an inline SVG
 * chart, and text), delivered where the tenant's report settings say; and those settings.
 */
@Injectable()
export class WeeklyReports {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sender: ReportSender,
  ) {}

  /** Undefined when the week does not exist (e.g. W53 of a 52-week year). */
  build(tenantId: string, week: string): Promise<WeeklyReport | undefined> {
    return buildWeeklyReport(this.dataSource.manager, tenantId, week);
  }

  render(report: WeeklyReport): RenderedReport {
    return {
      tenantId: report.tenant_id,
      week: report.week,
      subject: `${report.tenant_name}: your week ${report.week} in Herald`,
      html: weeklyReportHtml(report),
      text: weeklyReportText(report),
      json: report,
    };
  }

  /** Builds, renders and delivers a week's report per the tenant's settings; returns how it went out. */
  async deliver(tenantId: string, week: string): Promise<'email' | 'webhook'> {
    const [settings, report] = await Promise.all([this.settings(tenantId), this.build(tenantId, week)]);
    if (!report) throw new Error(`no week ${week}`);
    return this.sender.deliver(settings, this.render(report));
  }

  async settings(tenantId: string): Promise<ReportSettings> {
    const [row] = await this.dataSource.query<SettingsRow[]>(
      `SELECT delivery, sender_account_id, recipients, updated_at FROM report_settings WHERE tenant_id = $1`,
      [tenantId],
    );
    return row
      ? {
          delivery: row.delivery,
          senderAccountId: row.sender_account_id,
          recipients: row.recipients,
          updatedAt: row.updated_at,
        }
      : { delivery: 'off', senderAccountId: null, recipients: [], updatedAt: null };
  }

  /**
   * Replaces the tenant's report settings. ReportSettingsError: `sender_account_id` names no
   * account of the tenant (not-found), or one of another channel than the delivery needs.
   */
  async saveSettings(tenantId: string, input: ReportSettingsInput): Promise<ReportSettings> {
    if (input.delivery !== 'off') {
      const [account] = await this.dataSource.query<{ channel: string }[]>(
        `SELECT channel FROM sender_accounts WHERE tenant_id = $1 AND id = $2`,
        [tenantId, input.sender_account_id],
      );
      if (!account)
        throw new ReportSettingsError(
          'not-found',
          'sender_account_id',
          'names no sender account of this tenant',
        );
      const needed = CHANNEL_OF[input.delivery];
      if (account.channel !== needed)
        throw new ReportSettingsError(
          'invalid',
          'sender_account_id',
          `must be a ${needed} account for a report by ${input.delivery} (this one is ${account.channel})`,
        );
    }
    await this.dataSource.query(
      `INSERT INTO report_settings (tenant_id, delivery, sender_account_id, recipients, updated_at)
       VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (tenant_id) DO UPDATE SET delivery = excluded.delivery, sender_account_id = excluded.sender_account_id,
         recipients = excluded.recipients, updated_at = now()`,
      [
        tenantId,
        input.delivery,
        input.delivery === 'off' ? null : input.sender_account_id,
        input.delivery === 'email' ? (input.recipients ?? []) : [],
      ],
    );
    return this.settings(tenantId);
  }
}
