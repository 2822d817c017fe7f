export {
  CHANNEL_NAMES,
  RECEIVER_DEDUPES_BY_KEY,
  type Channel,
  type ChannelAccount,
  type ChannelName,
  type OutboundMessage,
  type SendOptions,
  type SendResult,
} from './channel';
export { ChannelError, PermanentChannelError, TransientChannelError } from './channel-errors';
export { ChannelRegistry, UnknownChannelError } from './channel-registry';
export { ChannelsModule } from './channels.module';
export {
  ACCOUNT_CONFIG_SCHEMAS,
  dryRunAccountConfigSchema,
  SECRET_CONFIG_FIELDS,
  smtpAccountConfigSchema,
  webhookAccountConfigSchema,
  type DryRunAccountConfig,
  type SmtpAccountConfig,
  type WebhookAccountConfig,
} from './config-schemas';
export { CredentialCipher, CredentialError, type CredentialKey } from './credentials';
export {
  SealedAccountTable,
  sealedAccountFields,
  withoutSecrets,
  type AccountQuotas,
  type AccountStatus,
  type NewSealedAccount,
  type SealedAccountFields,
  type SealedAccountRow,
  type SealedAccountTableSpec,
} from './sealed-account-table';
export { SealedColumnResealer, type SealedColumn, type TenantRowCursor } from './sealed-column.resealer';
export { DryRunChannel, type DryRunRecord } from './dry-run.channel';
export { isNonPublicAddress } from './address-guard';
export { deliveryKeyDigest, messageIdFor } from './message-id';
export {
  OutboundAddressError,
  OutboundGuard,
  type HostResolver,
  type OutboundGuardOptions,
  type OutboundRefusal,
  type ResolvedAddress,
  type VettedAddresses,
} from './outbound-guard';
export { classifySmtpError, isConnectionFailure, type SmtpConnectionFailure } from './smtp-errors';
export { SmtpChannel, type SmtpChannelOptions } from './smtp.channel';
export { parseRetryAfter, WebhookChannel, type WebhookChannelOptions } from './webhook.channel';
export { signWebhook, verifyWebhookSignature } from './webhook-signature';
