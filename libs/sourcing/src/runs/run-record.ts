export const SOURCING_RUN_STATUSES = [
  'queued',
  'running',
  'paused',
  'completed',
  'cancelled',
  'failed',
] as const;
export type SourcingRunStatus = (typeof SOURCING_RUN_STATUSES)[number];
export const CANDIDATE_STAGES = [
  'discovered',
  'duplicate',
  'assessed',
  'enriched',
  'scored',
  'handed_off',
  'rejected',
] as const;
export type CandidateStage = (typeof CANDIDATE_STAGES)[number];

/** A dry run's forecast: what the search would spend and when the account's quota allows it. */
export interface SourcingForecast {
  /** Search requests (pages) or visits the run would spend at most (no duplicates assumed). */
  requests: number;
  kind: 'search' | 'visit' | 'none';
  /** Requests per local date of the account's zone, as its quota windows allow them. */
  by_day: { date: string; count: number }[];
  /** When the last request may go; null when none is needed or the quota never allows them all. */
  finishes_at: string | null;
  /** Requests the quota has no room for (a 0 limit). */
  unplaced: number;
  summary: string;
}

export interface SourcingRunRecord {
  tenantId: string;
  id: string;
  jobId: string;
  trigger: 'schedule' | 'manual' | 'rescore';
  dryRun: boolean;
  status: SourcingRunStatus;
  scheduledFor: string | null;
  scoringModelId: string;
  scoringModelVersion: number;
  exhausted: boolean;
  limit: number;
  discovered: number;
  duplicates: number;
  requestsSpent: number;
  failures: number;
  forecast: SourcingForecast | null;
  reason: string | null;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
  lastProgressAt: Date | null;
  /** Candidates of the run per stage (every stage listed, 0 when none). */
  stages: Record<CandidateStage, number>;
  /** Of the rejected, those the beat closed as not qualified (a requalify puts them back). */
  notQualified: number;
  /** Candidates found per second over the last minute. */
  ratePerSecond: number;
  eta: Date | null;
  /** What decides the ETA: the quota's windows or the recent rate. */
  etaReason: 'quota' | 'rate' | null;
}

export interface RunRow {
  tenant_id: string;
  id: string;
  job_id: string;
  trigger: SourcingRunRecord['trigger'];
  dry_run: boolean;
  status: SourcingRunStatus;
  scheduled_for: string | null;
  scoring_model_id: string;
  scoring_model_version: number;
  cursor: string | null;
  exhausted: boolean;
  discovered: number;
  duplicates: number;
  requests_spent: number;
  failures: number;
  forecast: SourcingForecast | null;
  reason: string | null;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
  last_progress_at: Date | null;
  limit: number;
}

/** A run row with its job's limit (`SELECT r.*, j."limit"`): what the record is built from. */
export const SELECT_RUN = `SELECT r.*, to_char(r.scheduled_for, 'YYYY-MM-DD') AS scheduled_for, j."limit"
  FROM sourcing_runs r JOIN sourcing_jobs j ON j.tenant_id = r.tenant_id AND j.id = r.job_id`;

export function toRunRecord(
  row: RunRow,
  stages: Partial<Record<CandidateStage, number>>,
  ratePerSecond: number,
  notQualified = 0,
): SourcingRunRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    jobId: row.job_id,
    trigger: row.trigger,
    dryRun: row.dry_run,
    status: row.status,
    scheduledFor: row.scheduled_for,
    scoringModelId: row.scoring_model_id,
    scoringModelVersion: row.scoring_model_version,
    exhausted: row.exhausted,
    limit: row.limit,
    discovered: row.discovered,
    duplicates: row.duplicates,
    requestsSpent: row.requests_spent,
    failures: row.failures,
    forecast: row.forecast,
    reason: row.reason,
    error: row.error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
    lastProgressAt: row.last_progress_at,
    stages: Object.fromEntries(
      ['discovered', 'duplicate', 'assessed', 'enriched', 'scored', 'handed_off', 'rejected'].map((s) => [
        s,
        stages[s as CandidateStage] ?? 0,
      ]),
    ) as Record<CandidateStage, number>,
    notQualified,
    ratePerSecond,
    eta: null,
    etaReason: null,
  };
}
