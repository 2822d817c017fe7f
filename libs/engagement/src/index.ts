export {
  ENGAGEMENT_KINDS,
  type EngagementEvent,
  type EngagementInput,
  type EngagementKind,
  type RecordOutcome,
} from './engagement-event';
export { EngagementRecorder } from './engagement-recorder';
export { EngagementModule } from './engagement.module';
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
