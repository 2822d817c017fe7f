export {
  audienceSchema,
  CAMPAIGN_KINDS,
  CAMPAIGN_LIMITS,
  CAMPAIGN_STATUSES,
  campaignCreateSchema,
  campaignPatchSchema,
  CATCH_UP_POLICIES,
  QUOTA_POLICIES,
  scheduleRuleProblems,
  scheduleSchema,
  sendWindowSchema,
  stepRuleProblems,
  stepSchema,
  trackingSchema,
  WEEKDAYS,
  type Audience,
  type CampaignCreateInput,
  type CampaignKind,
  type CampaignPatchInput,
  type CampaignStatus,
  type CatchUpPolicy,
  type QuotaPolicy,
  type Schedule,
  type SendWindow,
  type StepInput,
  type Tracking,
} from './campaign-fields';
export { CampaignsModule } from './campaigns.module';
export { CampaignsRepository, type CampaignFilter, type CampaignRecord } from './campaigns.repository';
export { CampaignStateError, CampaignValidationError, UnknownSenderAccountError } from './errors';
export {
  countByDay,
  estimateCompletion,
  planQuota,
  slotsFrom,
  summarise,
  type EtaReason,
  type QuotaPlan,
  type QuotaPlanInput,
  type QuotaSlot,
} from './forecast';
export { type CampaignStep } from './campaign-step';
export { RunStates } from './runs/run-states';
export { type RunForecast } from './runs/run-forecast';
export { RunLifecycle } from './runs/run-lifecycle';
export { RunPreview, type Recipient, type RecipientPosition } from './runs/run-preview';
export { RUN_STATUSES, type RunRecord, type RunStatus } from './runs/run-record';
export { CampaignSchedules, dailySchedule, schedulerId, type FireOutcome } from './schedules';
export { RunList, type RunListFilter } from './runs/run-list';
