export { dataSourceOptions, type DatabaseSettings } from './data-source-options';
export { MIGRATIONS } from './migrations';
export { QUERY_TIMEOUT_MARGIN_MS, QueryBoundClient, queryTimeoutMs } from './query-bound-client';
export { PersistenceModule } from './persistence.module';
export { SystemPingsRepository, type SystemPing } from './system-pings.repository';
export { TransactionRunner } from './transaction-runner';
export {
  decodeCursor,
  encodeCursor,
  InvalidCursorError,
  keysetPage,
  type KeysetPosition,
} from './keyset-cursor';
export { queryRows } from './query-rows';
export { findTenantRow, givenColumns, tenantRowsAfter, updateTenantRow, type Queryable } from './tenant-rows';
