export {
  ENGAGEMENT_KINDS,
  type EngagementEvent,
  type EngagementInput,
  type EngagementKind,
  type RecordOutcome,
} from './engagement-event';
export { EngagementRecorder } from './engagement-recorder';
export { EngagementModule } from './engagement.module';
export {
  decideExperiment,
  type Verdict,
  type VerdictMetric,
  type VerdictSettings,
  type VariantCounts,
  type VariantResult,
} from './experiments/experiment-verdict';
export {
  campaignExperiments,
  type ExperimentDecision,
  type ExperimentResult,
  type StepExperiment,
} from './experiments/experiment-results';
export { variantCounts } from './experiments/variant-counts';
export { normalTail, twoProportionZTest, type Proportion, type ZTest } from './experiments/z-test';
