export { dataSourceOptions, type DatabaseSettings } from './data-source-options';
export { ENTITIES, SystemPing, Tenant } from './entities';
export { MIGRATIONS } from './migrations';
export { PersistenceModule } from './persistence.module';
export { SystemPingsRepository } from './system-pings.repository';
export { TransactionRunner } from './transaction-runner';
export {
  ApiKey,
  Contact,
  IdempotencyKey,
  Interaction,
  Suppression,
  type ApiKeyScope,
  type ContactStatus,
  type InteractionType,
  type SuppressionReason,
} from './entities';
export {
  decodeCursor,
  encodeCursor,
  InvalidCursorError,
  keysetPage,
  type KeysetPosition,
} from './keyset-cursor';
export { queryRows } from './query-rows';
