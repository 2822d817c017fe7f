import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The candidates still open: discovered, assessed or enriched, or scored and not held (their
 * hand-off still to come). A run completes only when it has none (SourcingRunProgress.touch,
 * after every batch), and the beat's `sourcing-qualify` duty groups the quiet ones by their job:
 * both read this small partial index instead of every candidate a long run has finished (held
 * and handed-off rows stay in the run's (stage) range otherwise). Its predicate is the same text
 * as OPEN_CANDIDATE, so the planner can prove a query's condition implies it.
 */
export class CandidatesOpen1763949000000 implements MigrationInterface {
  name = 'CandidatesOpen1763949000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX idx_candidates_open ON candidates (tenant_id, run_id, qualify_job, updated_at)
        WHERE stage IN ('discovered', 'assessed', 'enriched') OR (stage = 'scored' AND NOT held)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX idx_candidates_open`);
  }
}
