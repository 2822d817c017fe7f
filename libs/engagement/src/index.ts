export {
  ENGAGEMENT_KINDS,
  type EngagementEvent,
  type EngagementInput,
  type EngagementKind,
  type RecordOutcome,
} from './engagement-event';
export { EngagementRecorder } from './engagement-recorder';
export { EngagementModule } from './engagement.module';
export {
  decideExperiment,
  type Verdict,
  type VerdictMetric,
  type VerdictSettings,
  type VariantCounts,
  type VariantResult,
} from './experiments/experiment-verdict';
export {
  campaignExperiments,
  type ExperimentDecision,
  type ExperimentResult,
  type StepExperiment,
} from './experiments/experiment-results';
export { ExperimentsModule } from './experiments/experiments.module';
export { Experiments } from './experiments/experiments.service';
export { variantCounts } from './experiments/variant-counts';
export { normalTail, twoProportionZTest, type Proportion, type ZTest } from './experiments/z-test';
export { dueReportWeek, ISO_WEEK, lastCompletedWeek, weekBounds, weekOf } from './reports/iso-week';
export { weekChartSvg } from './reports/report-chart';
export { weeklyReportHtml, weeklyReportText } from './reports/report-html';
export { ReportDeliveryError, ReportSender, type RenderedReport } from './reports/report-sender';
export {
  REPORT_DELIVERIES,
  reportSettingsSchema,
  ReportSettingsError,
  type ReportDeliveryKind,
  type ReportSettings,
  type ReportSettingsInput,
} from './reports/report-settings';
export { ReportsModule } from './reports/reports.module';
export {
  buildWeeklyReport,
  type AccountDeliverability,
  type Funnel as ReportFunnel,
  type ReportCampaign,
  type ReportExperiment,
  type WeeklyReport,
} from './reports/weekly-report';
export { REPORT_CLAIM_LEASE_SECONDS, WeeklyReportScheduler } from './reports/weekly-report-scheduler';
export { WeeklyReports } from './reports/weekly-reports.service';
export { AnalyticsReader } from './analytics/analytics-reader';
export { RollupFolder } from './analytics/rollup-folder';
export { RollupRebuilder } from './analytics/rollup-rebuilder';
export {
  CAMPAIGN_GROUPINGS,
  ROLLUP_COUNTERS,
  type AnalyticsCounts,
  type AnalyticsRange,
  type AnalyticsRow,
  type CampaignAnalytics,
  type CampaignGrouping,
  type Funnel,
  type RollupCounter,
} from './analytics/analytics-types';
