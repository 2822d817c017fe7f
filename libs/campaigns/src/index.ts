export {
  audienceSchema,
  CAMPAIGN_KINDS,
  CAMPAIGN_LIMITS,
  CAMPAIGN_STATUSES,
  campaignCreateSchema,
  campaignPatchSchema,
  QUOTA_POLICIES,
  scheduleSchema,
  sendWindowSchema,
  stepRuleProblems,
  stepSchema,
  WEEKDAYS,
  type Audience,
  type CampaignCreateInput,
  type CampaignKind,
  type CampaignPatchInput,
  type CampaignStatus,
  type QuotaPolicy,
  type Schedule,
  type SendWindow,
  type StepInput,
} from './campaign-fields';
export { CampaignsModule } from './campaigns.module';
export { CampaignsRepository, type CampaignFilter, type CampaignRecord } from './campaigns.repository';
export { CampaignStateError, CampaignValidationError, UnknownSenderAccountError } from './errors';
export { RUN_STATUSES, RunsService, type RunRecord, type RunStatus } from './runs.service';
