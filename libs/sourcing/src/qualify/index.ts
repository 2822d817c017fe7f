export { DomainPacer, DOMAIN_INTERVAL_MS } from './assessment/domain-pacer';
export { FetchError, FetchSession, type FetchedPage, type FetchLimits } from './assessment/page-fetcher';
export { websiteDomain, type SiteAssessment } from './assessment/site-assessment';
export { ROBOT_NAME, SiteAssessor } from './assessment/site-assessor';
export { CANDIDATE_STAGES, type CandidateStage } from './candidate-row';
export { Enricher, type EnrichmentOutcome } from './enrichment/enricher';
export { handoffActionSchema, type HandoffAction } from './handoff/handoff-plan';
export { QualifyMetrics } from './qualify-metrics';
export { QualifyModule } from './qualify.module';
export { Qualifier, type BatchTally } from './qualifier';
export { score, type ExplainLine, type ScoreResult } from './scoring/score';
export {
  ScoringModelsRepository,
  type ScoringModelRecord,
  type ScoringVersionRecord,
} from './scoring/scoring-models.repository';
export {
  RULE_OPS,
  ruleSchema,
  scoringVersionBody,
  TIERS,
  tiersSchema,
  type ScoringRule,
  type ScoringVersionInput,
  type Tier,
  type TierThresholds,
} from './scoring/scoring-rules';
