// Provider webhooks (SendGrid, SES through SNS, Postmark, Mailgun): verified, normalised and
// recorded through the engagement recorder; their suppressions go through sequences' events.
export { AccountHealth, type HealthCounts, type PauseReason } from './account-health';
export {
  ProviderNotConfiguredError,
  ProviderPayloadError,
  ProviderSignatureError,
  ProviderUnavailableError,
} from './provider-errors';
export {
  DELIVERY_ID_ARG,
  DELIVERY_ID_HEADER,
  PROVIDERS,
  type ProviderEvent,
  type ProviderName,
} from './provider-event';
export { ProviderEventsService, type ProviderRequest, type ProviderResult } from './provider-events.service';
export { ProviderMetrics, type ProviderEventOutcome } from './provider-metrics';
export { ProviderWebhookResealer, type ProviderWebhookCursor } from './provider-webhook.resealer';
export { ProviderWebhooksRepository, webhookContext } from './provider-webhooks.repository';
export { ProviderEventsModule } from './providers.module';
export { snsStringToSign } from './ses';
export { webhookVerificationSchema, type WebhookVerification } from './webhook-verification';
