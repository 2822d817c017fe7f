import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { HeraldLogger } from '@herald/telemetry';
import { CLOCK, type Clock } from '@herald/time';
import type { DataSource } from 'typeorm';
import { dueReportWeek } from './iso-week';
import { WeeklyReports } from './weekly-reports.service';

/** Attempts at one week's report before it is left failed (one per beat tick). */
const MAX_ATTEMPTS = 3;
/**
 * How long a claim stays the claimant's: a row still `pending` this long after it was claimed
 * was left by a beat that died mid-delivery, and is taken again. Far above a delivery's own
 * timeouts, so a slow delivery is never doubled by its own beat's next ticks.
 */
export const REPORT_CLAIM_LEASE_SECONDS = 15 * 60;

/**
 * The beat's weekly-report duty: each tenant with report delivery on gets the report of the
 * week just ended once it is Monday WEEKLY_REPORT_HOUR in the tenant's zone. A row per tenant
 * and ISO week (weekly_reports, unique) is claimed before sending, so however often the beat
 * looks, and whichever beat leads, a week's report goes out once; a failed delivery is tried
 * again at the next ticks, up to three attempts, and so is one whose beat died after claiming it
 * (once its claim's lease has run out). A repeat after such a crash may reach a recipient twice:
 * the email keeps one Message-ID per tenant and week and the webhook one Idempotency-Key, so
 * mail clients and receivers can tell.
 */
@Injectable()
export class WeeklyReportScheduler {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly reports: WeeklyReports,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly logger: HeraldLogger,
  ) {}

  /** Returns how many reports it delivered. `now`: the clock's, unless a test names another instant. */
  async run(now = new Date(this.clock.nowMs())): Promise<number> {
    const tenants = await this.dataSource.query<{ tenant_id: string; time_zone: string }[]>(
      `SELECT s.tenant_id, t.time_zone FROM report_settings s JOIN tenants t ON t.id = s.tenant_id
        WHERE s.delivery <> 'off'`,
    );
    let delivered = 0;
    for (const t of tenants) {
      const week = dueReportWeek(now, t.time_zone, this.config.beat.weeklyReportHour);
      if (!week || !(await this.claim(t.tenant_id, week))) continue;
      try {
        const how = await this.reports.deliver(t.tenant_id, week);
        await this.dataSource.query(
          `UPDATE weekly_reports SET status = 'delivered', delivery = $3, delivered_at = now(), last_error = NULL
            WHERE tenant_id = $1 AND week = $2`,
          [t.tenant_id, week, how],
        );
        delivered += 1;
      } catch (error) {
        const message = (error as Error).message;
        this.logger.warn({ tenantId: t.tenant_id, week, err: { message } }, 'weekly report not delivered');
        await this.dataSource.query(
          `UPDATE weekly_reports SET status = 'failed', last_error = left($3, 1000) WHERE tenant_id = $1 AND week = $2`,
          [t.tenant_id, week, message],
        );
      }
    }
    return delivered;
  }

  /**
   * Takes the week's report for this tick: a new row, a failed one with attempts left, or a
   * pending one whose claim's lease ran out (its beat died), with attempts left.
   */
  private async claim(tenantId: string, week: string): Promise<boolean> {
    const inserted = await this.dataSource.query<unknown[]>(
      `INSERT INTO weekly_reports (tenant_id, week, status, attempts, claimed_at) VALUES ($1, $2, 'pending', 1, now())
       ON CONFLICT (tenant_id, week) DO NOTHING RETURNING 1`,
      [tenantId, week],
    );
    if (inserted.length > 0) return true;
    const retried = await this.dataSource.query<[unknown[], number]>(
      `UPDATE weekly_reports SET status = 'pending', attempts = attempts + 1, claimed_at = now()
        WHERE tenant_id = $1 AND week = $2 AND attempts < $3
          AND (status = 'failed'
               OR (status = 'pending'
                   AND coalesce(claimed_at, created_at) < now() - make_interval(secs => $4)))
        RETURNING 1`,
      [tenantId, week, MAX_ATTEMPTS, REPORT_CLAIM_LEASE_SECONDS],
    );
    return (retried[0]?.length ?? 0) > 0;
  }
}
