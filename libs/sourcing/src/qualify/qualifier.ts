import { queryRows } from '@herald/persistence';
import { SourcingRunProgress } from '../runs/run-progress';
import type { DataSource } from 'typeorm';
import type { SiteAssessor } from './assessment/site-assessor';
import { CANDIDATE_COLUMNS, scoringSubject, type CandidateRow } from './candidate-row';
import type { Enricher } from './enrichment/enricher';
import type { HandOff, HandOffResult } from './handoff/hand-off';
import { actionFor, type HandoffAction } from './handoff/handoff-plan';
import type { QualifyMetrics } from './qualify-metrics';
import { score } from './scoring/score';
import type { ScoringModelsRepository } from './scoring/scoring-models.repository';

/** CANDIDATE_COLUMNS qualified by the UPDATE's alias `c` (built once, not per statement). */
const CANDIDATE_COLUMNS_OF_C = CANDIDATE_COLUMNS.split(',')
  .map((column) => `c.${column.trim()}`)
  .join(', ');

interface StepSet {
  facts?: Record<string, unknown>;
  reason?: string;
  score?: number;
  tier?: string;
  explain?: unknown;
  scoringModelVersion?: number;
}

interface RunContext {
  scoringModelId: string;
  scoringModelVersion: number;
  handoff: unknown;
  source: string;
}

export interface BatchTally {
  readonly qualified: number;
  readonly skipped: number;
}

/**
 * Moves a run's candidates on: discovered → assessed → enriched → scored → handed off (or held,
 * or rejected). Each step is a guarded UPDATE (`WHERE stage = <the step before>`), so a batch
 * repeated after a crash, or run twice at once, redoes nothing already done: assessment and
 * enrichment answers come from their caches, and the hand-off locks the candidate.
 */
export class Qualifier {
  constructor(
    private readonly dataSource: DataSource,
    private readonly assessor: SiteAssessor,
    private readonly enricher: Enricher,
    private readonly models: ScoringModelsRepository,
    private readonly handOff: HandOff,
    private readonly metrics: QualifyMetrics,
  ) {}

  async qualifyBatch(tenantId: string, runId: string, candidateIds: readonly string[]): Promise<BatchTally> {
    const run = await this.runContext(tenantId, runId);
    if (!run) return { qualified: 0, skipped: candidateIds.length };
    const version = await this.models.version(tenantId, run.scoringModelId, run.scoringModelVersion);
    if (!version)
      throw new Error(
        `run ${runId} names scoring model version ${run.scoringModelVersion}, which does not exist`,
      );
    const live = (await this.loadMany(tenantId, candidateIds)).filter(
      (c) => !['duplicate', 'handed_off', 'rejected'].includes(c.stage),
    );
    // The batch moves stage by stage: each stage's fetches side by side (within the worker's
    // fetch slots and the domains' pace), then one guarded UPDATE for all its candidates.
    const assessed = await this.assessStage(
      tenantId,
      live.filter((c) => c.stage === 'discovered'),
    );
    const enriched = await this.enrichStage(tenantId, [
      ...live.filter((c) => c.stage === 'assessed'),
      ...assessed.filter((c) => c.stage === 'assessed'),
    ]);
    const scored = await this.advanceMany(
      [...live.filter((c) => c.stage === 'enriched'), ...enriched.filter((c) => c.stage === 'enriched')].map(
        (c) => {
          const result = score(version.rules, version.tiers, scoringSubject(c));
          return {
            c,
            set: {
              score: result.score,
              tier: result.tier,
              explain: result.explain,
              scoringModelVersion: version.version,
            },
          };
        },
      ),
      'enriched',
      'scored',
    );
    const ready = [
      ...live.filter((c) => c.stage === 'scored'),
      ...scored.filter((c) => c.stage === 'scored'),
    ];
    // Each hand-off is its own transaction (the candidate locked, at most one contact and one
    // enrolment); all settle before a failure fails the job, so its retry never overlaps them.
    const handedOff = await Promise.allSettled(
      ready
        .filter((c) => !c.held)
        .map((c) =>
          this.dataSource.transaction('READ COMMITTED', (manager) =>
            this.handOff.handOff(manager, tenantId, c.id, actionFor(run.handoff, c.tier ?? 'D'), {
              source: run.source,
            }),
          ),
        ),
    );
    const failure = handedOff.find((o) => o.status === 'rejected');
    if (failure) throw failure.reason;
    await SourcingRunProgress.touch(this.dataSource.manager, tenantId, runId);
    return { qualified: live.length, skipped: candidateIds.length - live.length };
  }

  private async assessStage(tenantId: string, discovered: readonly CandidateRow[]): Promise<CandidateRow[]> {
    const websites = discovered.flatMap((c) => (c.website ? [c.website] : []));
    const assessments = await this.assessor.assessMany(tenantId, websites);
    return this.advanceMany(
      discovered.map((c) => ({
        c,
        set: { facts: { assessment: c.website ? (assessments.get(c.website) ?? null) : null } },
      })),
      'discovered',
      'assessed',
    );
  }

  private async enrichStage(tenantId: string, assessed: readonly CandidateRow[]): Promise<CandidateRow[]> {
    if (assessed.length === 0) return [];
    const outcomes = await this.enricher.enrichMany(
      tenantId,
      assessed.map((c) => ({
        candidateId: c.id,
        email: c.email_normalised,
        domain: c.website_domain ?? (c.facts.assessment as { domain?: string } | null)?.domain ?? null,
      })),
    );
    return this.advanceMany(
      assessed.map((c) => {
        const outcome = outcomes.get(c.id)!;
        const enrichment = outcome.kind === 'enriched' ? outcome.fields : null;
        const error = outcome.kind === 'failed' ? outcome.error : null;
        return {
          c,
          set: {
            facts: { enrichment, enrichment_error: error, enrichment_status: outcome.kind },
            ...(error ? { reason: 'enrichment_failed' } : {}),
          },
        };
      }),
      'assessed',
      'enriched',
    );
  }

  /** Approves held candidates: each handed off with its tier's action, or the one given. */
  async approve(
    tenantId: string,
    runId: string,
    ids: readonly string[],
    override: HandoffAction | undefined,
  ): Promise<{ id: string; result: HandOffResult }[]> {
    const run = await this.runContext(tenantId, runId);
    if (!run) return [];
    const results: { id: string; result: HandOffResult }[] = [];
    for (const id of ids) {
      const result = await this.dataSource.transaction('READ COMMITTED', async (manager) => {
        const [row] = await manager.query<{ tier: 'A' | 'B' | 'C' | 'D' | null }[]>(
          `SELECT tier FROM candidates WHERE tenant_id = $1 AND run_id = $2 AND id = $3`,
          [tenantId, runId, id],
        );
        if (!row) return { done: false as const, why: 'not_found' };
        let action = override ?? actionFor(run.handoff, row.tier ?? 'D');
        // Approving a tier whose plan is to hold means: make it a contact.
        if (action.action === 'hold') action = { action: 'contact' };
        return this.handOff.handOff(manager, tenantId, id, action, { approving: true, source: run.source });
      });
      results.push({ id, result });
    }
    await SourcingRunProgress.touch(this.dataSource.manager, tenantId, runId);
    return results;
  }

  /** Rejects candidates not yet handed off (held or still in flight); the others are reported. */
  async reject(tenantId: string, runId: string, ids: readonly string[], reason: string) {
    const rows = queryRows<{ id: string; tier: string | null }>(
      await this.dataSource.query<unknown>(
        `UPDATE candidates SET stage = 'rejected', held = false, reason = $4, updated_at = now()
          WHERE tenant_id = $1 AND run_id = $2 AND id = ANY ($3::uuid[])
            AND stage IN ('discovered', 'assessed', 'enriched', 'scored')
          RETURNING id, tier`,
        [tenantId, runId, ids, reason],
      ),
    );
    for (const r of rows) this.metrics.candidates.inc({ stage: 'rejected', tier: r.tier ?? '' });
    await SourcingRunProgress.touch(this.dataSource.manager, tenantId, runId);
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Scores a run's scored and handed-off candidates again with a version of its model, from the
   * facts already stored (nothing is fetched), and records the version on the run. A hand-off
   * already made stays made.
   */
  async rescore(tenantId: string, runId: string, versionNumber: number | undefined) {
    const run = await this.runContext(tenantId, runId);
    if (!run) return undefined;
    const model = await this.models.find(tenantId, run.scoringModelId);
    const wanted = versionNumber ?? model?.currentVersion ?? run.scoringModelVersion;
    const version = await this.models.version(tenantId, run.scoringModelId, wanted);
    if (!version) return { rescored: 0, version: wanted, missing: true as const };
    let rescored = 0;
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const page = await this.dataSource.query<CandidateRow[]>(
        `SELECT ${CANDIDATE_COLUMNS} FROM candidates
          WHERE tenant_id = $1 AND run_id = $2 AND id > $3 AND stage IN ('scored', 'handed_off')
          ORDER BY id LIMIT 500`,
        [tenantId, runId, after],
      );
      if (page.length === 0) break;
      const scored = page.map((c) => ({
        id: c.id,
        ...score(version.rules, version.tiers, scoringSubject(c)),
      }));
      await this.dataSource.query(
        `UPDATE candidates c SET score = s.score, tier = s.tier, explain = s.explain, scoring_model_version = $3, updated_at = now()
           FROM jsonb_to_recordset($4::jsonb) AS s (id uuid, score int, tier text, explain jsonb)
          WHERE c.tenant_id = $1 AND c.run_id = $2 AND c.id = s.id`,
        [tenantId, runId, wanted, JSON.stringify(scored)],
      );
      rescored += page.length;
      after = page[page.length - 1]!.id;
    }
    await this.dataSource.query(
      `UPDATE sourcing_runs SET scoring_model_version = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
      [tenantId, runId, wanted],
    );
    return { rescored, version: wanted, missing: false as const };
  }

  async runExists(tenantId: string, runId: string): Promise<boolean> {
    return (await this.runContext(tenantId, runId)) !== undefined;
  }

  private async loadMany(tenantId: string, ids: readonly string[]): Promise<CandidateRow[]> {
    return this.dataSource.query<CandidateRow[]>(
      `SELECT ${CANDIDATE_COLUMNS} FROM candidates WHERE tenant_id = $1 AND id = ANY ($2::uuid[])`,
      [tenantId, ids],
    );
  }

  /**
   * One step for many candidates in one statement, only from the stage each starts at: a
   * concurrent twin that got there first makes that row a no-op, and every row is returned as
   * it now is either way. A step is progress: the beat's count of recoveries without it restarts.
   */
  private async advanceMany(
    steps: readonly { c: CandidateRow; set: StepSet }[],
    from: CandidateRow['stage'],
    to: CandidateRow['stage'],
  ): Promise<CandidateRow[]> {
    if (steps.length === 0) return [];
    const tenantId = steps[0]!.c.tenant_id;
    const moved = queryRows<CandidateRow>(
      await this.dataSource.query<unknown>(
        `UPDATE candidates c SET stage = $4, facts = c.facts || coalesce(s.facts, '{}'::jsonb),
                reason = coalesce(s.reason, c.reason), score = coalesce(s.score, c.score),
                tier = coalesce(s.tier, c.tier), explain = coalesce(s.explain, c.explain),
                scoring_model_version = coalesce(s.scoring_model_version, c.scoring_model_version),
                qualify_recoveries = 0, updated_at = now()
           FROM jsonb_to_recordset($2::jsonb) AS s (id uuid, facts jsonb, reason text, score int, tier text,
                                                    explain jsonb, scoring_model_version int)
          WHERE c.tenant_id = $1 AND c.id = s.id AND c.stage = $3
          RETURNING ${CANDIDATE_COLUMNS_OF_C}`,
        [
          tenantId,
          JSON.stringify(
            steps.map(({ c, set }) => ({
              id: c.id,
              facts: set.facts ?? null,
              reason: set.reason ?? null,
              score: set.score ?? null,
              tier: set.tier ?? null,
              explain: set.explain ?? null,
              scoring_model_version: set.scoringModelVersion ?? null,
            })),
          ),
          from,
          to,
        ],
      ),
    );
    for (const row of moved)
      this.metrics.candidates.inc({ stage: to, tier: to === 'scored' ? (row.tier ?? '') : '' });
    const movedIds = new Set(moved.map((r) => r.id));
    const others = steps.filter((s) => !movedIds.has(s.c.id)).map((s) => s.c.id);
    return others.length === 0 ? moved : [...moved, ...(await this.loadMany(tenantId, others))];
  }

  private async runContext(tenantId: string, runId: string): Promise<RunContext | undefined> {
    const [row] = await this.dataSource.query<
      { scoring_model_id: string; scoring_model_version: number; handoff: unknown; source: string | null }[]
    >(
      `SELECT r.scoring_model_id, r.scoring_model_version, j.handoff, a.name AS source
         FROM sourcing_runs r
         JOIN sourcing_jobs j ON j.tenant_id = r.tenant_id AND j.id = r.job_id
         LEFT JOIN source_accounts a ON a.tenant_id = j.tenant_id AND a.id = j.source_account_id
        WHERE r.tenant_id = $1 AND r.id = $2`,
      [tenantId, runId],
    );
    return (
      row && {
        scoringModelId: row.scoring_model_id,
        scoringModelVersion: row.scoring_model_version,
        handoff: row.handoff,
        source: row.source ?? 'sourcing',
      }
    );
  }
}
