export {
  CANDIDATE_FIELDS,
  csvConfig,
  httpDirectoryConfig,
  httpEnrichmentConfig,
  httpUrl,
  profileVisitConfig,
  SECRET_SOURCE_FIELDS,
  SOURCE_ACCOUNT_STATUSES,
  SOURCE_CONFIG_SCHEMAS,
  SOURCE_KINDS,
  type CandidateField,
  type CsvConfig,
  type HttpDirectoryConfig,
  type HttpEnrichmentConfig,
  type ProfileVisitConfig,
  type SourceAccountRecord,
  type SourceAccountStatus,
  type SourceConfigs,
  type SourceKind,
  type SourceQuotas,
  type UnsealedSourceAccount,
} from './accounts/source-account';
export {
  SourceAccountsRepository,
  sourceCredentialsContext,
  sourceQuotaAccount,
} from './accounts/source-accounts.repository';
export { SourceQuota, sourceCircuitKey } from './accounts/source-quota';
export { OPEN_STAGES, SourcingRunProgress, type TouchOutcome } from './runs/run-progress';
export { SourcingModule } from './sourcing.module';
