export {
  ENGAGEMENT_KINDS,
  type EngagementEvent,
  type EngagementInput,
  type EngagementKind,
  type RecordOutcome,
} from './engagement-event';
export { EngagementRecorder } from './engagement-recorder';
export { EngagementModule } from './engagement.module';
export { AccountHealth, type HealthCounts, type PauseReason } from './providers/account-health';
export {
  ProviderNotConfiguredError,
  ProviderPayloadError,
  ProviderSignatureError,
  ProviderUnavailableError,
} from './providers/provider-errors';
export {
  DELIVERY_ID_ARG,
  DELIVERY_ID_HEADER,
  PROVIDERS,
  type ProviderEvent,
  type ProviderName,
} from './providers/provider-event';
export {
  ProviderEventsService,
  type ProviderRequest,
  type ProviderResult,
} from './providers/provider-events.service';
export { ProviderMetrics, type ProviderEventOutcome } from './providers/provider-metrics';
export { ProviderWebhookResealer, type ProviderWebhookCursor } from './providers/provider-webhook.resealer';
export { ProviderWebhooksRepository, webhookContext } from './providers/provider-webhooks.repository';
export { ProviderEventsModule } from './providers/providers.module';
export { snsStringToSign } from './providers/ses';
export { webhookVerificationSchema, type WebhookVerification } from './providers/webhook-verification';
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
