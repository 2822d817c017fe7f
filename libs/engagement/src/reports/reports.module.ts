import { Module } from '@nestjs/common';
import { DeliveriesModule } from '@herald/deliveries';
import { PersistenceModule } from '@herald/persistence';
import { TelemetryModule } from '@herald/telemetry';
import { TimeModule } from '@herald/time';
import { ReportSender } from './report-sender';
import { WeeklyReportScheduler } from './weekly-report-scheduler';
import { WeeklyReports } from './weekly-reports.service';

/** Weekly reports: built from the ledger and engagement events, delivered by email or webhook. */
@Module({
  imports: [DeliveriesModule, PersistenceModule, TelemetryModule, TimeModule],
  providers: [ReportSender, WeeklyReports, WeeklyReportScheduler],
  exports: [WeeklyReports, WeeklyReportScheduler],
})
export class ReportsModule {}
