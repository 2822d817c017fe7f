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
export {
  circuitAccounts,
  circuitAccountType,
  type CircuitAccount,
  type CircuitAccountType,
} from './accounts/circuit-accounts';
export { SourceCredentialsResealer } from './accounts/source-credentials.resealer';
export { CandidateList, type CandidateRecord } from './candidates/candidate-list';
export { CandidateWriter, QUALIFY_BATCH, qualifyJobId } from './candidates/candidate-writer';
export type { Batch, FoundCandidate, SourceConnector } from './connectors/connector';
export {
  CONNECTORS,
  connectorFor,
  isSearchKind,
  SEARCH_KINDS,
  type SearchKind,
} from './connectors/connectors';
export {
  guardedGet,
  SourceFetchError,
  type FetchedPage,
  type FetchFailure,
  type GuardedFetchOptions,
} from './connectors/guarded-fetch';
export { extractProfile, profileFields, type ProfileData } from './connectors/profile-extract';
export {
  DEDUPE_RULES,
  DedupeIndex,
  dedupeKeys,
  type DedupeKeys,
  type DedupeRule,
  type DuplicateOf,
} from './dedupe/dedupe';
export { normaliseDomain, normaliseEmail, normaliseName, normaliseProfileUrl } from './dedupe/normalise';
export { SourcingStateError, SourcingUnavailableError, SourcingValidationError } from './errors';
export {
  HANDOFF_ACTIONS,
  handoffSchema,
  sourcingJobCreateSchema,
  sourcingJobPatchSchema,
  TIERS,
  type Handoff,
  type HandoffAction,
  type SourcingJobCreateInput,
  type SourcingJobPatchInput,
  type Tier,
} from './jobs/job-fields';
export { SourcingJobsRepository, type SourcingJobRecord } from './jobs/sourcing-jobs.repository';
export {
  MAX_STEP_FAILURES,
  reservationId,
  SourcingRunExecutor,
  type ExecutorOutcome,
} from './runs/run-executor';
export {
  MAX_QUALIFY_RECOVERIES,
  SourcingLostQualifyJobs,
  type QualifyRecoveryOutcome,
} from './runs/lost-qualify-jobs';
export { lostJobQuietMs, SourcingLostRunJobs } from './runs/lost-run-jobs';
export { SourcingRequalify, type RequalifyResult, type RequalifySkip } from './runs/requalify';
export { runJobKey, SourcingRunLifecycle } from './runs/run-lifecycle';
export { SourcingRunMetrics } from './runs/run-metrics';
export { RunPlanner } from './runs/run-planner';
export {
  MAX_HANDBACKS,
  SourcingRunReconciler,
  STALLED_REASON,
  type RecoveryOutcome,
} from './runs/run-reconciler';
export { NOT_QUALIFIED, OPEN_CANDIDATE, SourcingRunProgress, type TouchOutcome } from './runs/run-progress';
export {
  CANDIDATE_STAGES,
  SOURCING_RUN_STATUSES,
  type CandidateStage,
  type SourcingForecast,
  type SourcingRunRecord,
  type SourcingRunStatus,
} from './runs/run-record';
export { SourcingSchedules } from './runs/run-schedules';
export {
  sourcingCandidates,
  sourcingRequalified,
  sourcingRequests,
  sourcingRunRecoveries,
} from './sourcing-metrics';
export { SourcingModule } from './sourcing.module';
// Qualifying (assessment, enrichment, scoring, hand-off): its own index.
export * from './qualify';
