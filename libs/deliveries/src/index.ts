export { DeliveriesModule } from './deliveries.module';
export { DeliveryKeys } from './delivery-keys';
export { DeliveryPipeline, type DeliveryJob, type DeliveryOutcome } from './delivery-pipeline';
export { DeliveryReconciler } from './delivery-reconciler';
export {
  audienceFilter,
  audiencePage,
  birthdayCandidates,
  type AudienceSpec,
  type ContactFilterJson,
} from './audience';
export { FANOUT_PAGE, FanoutService, SEND_PAGE, TENANT_BACKLOG, type FanoutResult } from './fanout.service';
export { FairDispatcher } from './fair/fair-dispatcher';
export {
  FairQueue,
  pageId,
  type DispatchedPage,
  type FairQueueStats,
  type PagePayload,
} from './fair/fair-queue';
export {
  DELIVERY_STATUSES,
  FINAL_STATUSES,
  LEDGER_SQL,
  LedgerRepository,
  SETTLED_STATUSES,
  type DeliveryContext,
  type DeliveryRef,
  type DeliveryStatus,
} from './ledger.repository';
export { MicroBatcher } from './micro-batcher';
export {
  MESSAGE_FORMATS,
  type MessageContent,
  type MessageFormat,
  type MessageRecipient,
  type MessageSender,
  type MessageTracking,
} from './render/message-content';
export { LinkTokens, type LinkClaims, type LinkPurpose, type LinkSubject } from './render/links/link-token';
export { PUBLIC_LINK_PATHS, PublicLinks } from './render/links/public-links';
export { DEFAULT_LAYOUT, layoutProblems } from './render/mail-layout';
export {
  MessageRenderer,
  PREVIEW_DELIVERY_ID,
  type MessageEnvelope,
  type RenderedMessage,
  type RenderRequest,
} from './render/message-renderer';
export {
  allocationPointSql,
  EXPERIMENT_METRICS,
  pickVariant,
  type AllocationKey,
  type ExperimentMetric,
  type ExperimentSettings,
  type MessageVariant,
  type PickedVariant,
} from './render/variants';
export { RunPort, type FanoutProgress, type FanoutRun, type RunOwner } from './run-port';
export { sendWindowSpec, type DeliveryWindow } from './send-window';
export { OutboxRelay } from './outbox-relay';
export {
  defaultGuarantee,
  DELIVERY_GUARANTEES,
  quotaAccountOf,
  SenderAccountsRepository,
  type DeliveryGuarantee,
  type SenderAccountRecord,
  type SendingAccount,
} from './sender-accounts.repository';
export { SenderCredentialsResealer, type SenderAccountCursor } from './sender-credentials.resealer';
// Messages are built by MessageRenderer alone: the template functions stay inside, only the syntax check
// (and the HTML escaping the hosted pages share) are shared.
export { escapeHtml, TemplateError, templateProblems } from './template';
export { UnknownDeliveries, type DeliveryRecord, type OperatorOutcome } from './unknown-deliveries';
export { RunDeliveries } from './run-deliveries';
