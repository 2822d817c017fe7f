export { dataSourceOptions, type DatabaseSettings } from './data-source-options';
export { ENTITIES, SystemPing, Tenant } from './entities';
export { MIGRATIONS } from './migrations';
export { PersistenceModule } from './persistence.module';
export { SystemPingsRepository } from './system-pings.repository';
export { TransactionRunner } from './transaction-runner';
