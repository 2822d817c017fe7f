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
    let qualified = 0;
    // One at a time per batch: the per-domain pace and the quotas decide the speed, not this loop.
    for (const id of candidateIds) {
      if (await this.qualifyOne(tenantId, id, run, version)) qualified++;
    }
    await SourcingRunProgress.touch(this.dataSource.manager, tenantId, runId);
    return { qualified, skipped: candidateIds.length - qualified };
  }

  private async qualifyOne(
    tenantId: string,
    id: string,
    run: RunContext,
    version: { rules: Parameters<typeof score>[0]; tiers: Parameters<typeof score>[1]; version: number },
  ): Promise<boolean> {
    let c = await this.load(tenantId, id);
    if (!c || ['duplicate', 'handed_off', 'rejected'].includes(c.stage)) return false;
    if (c.stage === 'discovered') {
      const assessment = c.website ? await this.assessor.assess(tenantId, c.website) : null;
      c = await this.advance(c, 'discovered', 'assessed', { facts: { assessment } });
    }
    if (c?.stage === 'assessed') {
      const outcome = await this.enricher.enrich(tenantId, {
        candidateId: c.id,
        email: c.email_normalised,
        domain: c.website_domain ?? (c.facts.assessment as { domain?: string } | null)?.domain ?? null,
      });
      const enrichment = outcome.kind === 'enriched' ? outcome.fields : null;
      const error = outcome.kind === 'failed' ? outcome.error : null;
      c = await this.advance(c, 'assessed', 'enriched', {
        facts: { enrichment, enrichment_error: error, enrichment_status: outcome.kind },
        ...(error ? { reason: 'enrichment_failed' } : {}),
      });
    }
    if (c?.stage === 'enriched') {
      const result = score(version.rules, version.tiers, scoringSubject(c));
      c = await this.advance(c, 'enriched', 'scored', {
        score: result.score,
        tier: result.tier,
        explain: result.explain,
        scoringModelVersion: version.version,
      });
    }
    if (c?.stage === 'scored' && !c.held) {
      const action = actionFor(run.handoff, c.tier ?? 'D');
      await this.dataSource.transaction('READ COMMITTED', (manager) =>
        this.handOff.handOff(manager, tenantId, id, action, { source: run.source }),
      );
    }
    return true;
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

  private async load(tenantId: string, id: string): Promise<CandidateRow | undefined> {
    const [row] = await this.dataSource.query<CandidateRow[]>(
      `SELECT ${CANDIDATE_COLUMNS} FROM candidates WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return row;
  }

  /**
   * One step, only from the stage it starts at: a concurrent twin that got there first makes
   * this a no-op, and the row as it now is is returned either way.
   */
  private async advance(
    c: CandidateRow,
    from: CandidateRow['stage'],
    to: CandidateRow['stage'],
    set: {
      facts?: Record<string, unknown>;
      reason?: string;
      score?: number;
      tier?: string;
      explain?: unknown;
      scoringModelVersion?: number;
    },
  ): Promise<CandidateRow | undefined> {
    const result = await this.dataSource.query<unknown>(
      `UPDATE candidates SET stage = $4, facts = facts || $5::jsonb, reason = coalesce($6, reason),
              score = coalesce($7, score), tier = coalesce($8, tier), explain = coalesce($9::jsonb, explain),
              scoring_model_version = coalesce($10, scoring_model_version), updated_at = now()
        WHERE tenant_id = $1 AND id = $2 AND stage = $3
        RETURNING ${CANDIDATE_COLUMNS}`,
      [
        c.tenant_id,
        c.id,
        from,
        to,
        JSON.stringify(set.facts ?? {}),
        set.reason ?? null,
        set.score ?? null,
        set.tier ?? null,
        set.explain === undefined ? null : JSON.stringify(set.explain),
        set.scoringModelVersion ?? null,
      ],
    );
    const [row] = queryRows<CandidateRow>(result);
    if (row) {
      this.metrics.candidates.inc({ stage: to, tier: to === 'scored' ? (set.tier ?? '') : '' });
      return row;
    }
    return this.load(c.tenant_id, c.id);
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
