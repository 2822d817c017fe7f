import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Editing a step's variants restarts its experiment. Sends made with the old variants measured
 * other messages under the same names, and a winner or promotion chosen among them would speak
 * for content that is gone. A trigger on `campaigns` (whoever writes the steps) resets the
 * step's row in campaign_experiments — no winner, no promotion, no verdict — and records
 * `started_at`; the experiment's counts take only sends made since then.
 */
export class ExperimentRestart1763945000000 implements MigrationInterface {
  name = 'ExperimentRestart1763945000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE campaign_experiments ADD COLUMN started_at timestamptz(3)`);
    await q.query(`
      CREATE FUNCTION campaign_experiments_restart() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO campaign_experiments AS x (tenant_id, campaign_id, step, started_at)
        SELECT NEW.tenant_id, NEW.id, (s.n - 1)::smallint, now()
          FROM jsonb_array_elements(NEW.steps) WITH ORDINALITY AS s (value, n)
         WHERE (s.value -> 'variants') IS DISTINCT FROM (OLD.steps -> (s.n - 1)::int -> 'variants')
           AND jsonb_typeof(s.value -> 'variants') = 'array'
        ON CONFLICT (tenant_id, campaign_id, step) DO UPDATE SET
          started_at = excluded.started_at, winner = NULL, decided_at = NULL, promoted_variant = NULL,
          promoted_by = NULL, promoted_at = NULL, verdict = NULL, evaluated_at = NULL;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER trg_campaigns_experiment_restart AFTER UPDATE OF steps ON campaigns
        FOR EACH ROW WHEN (OLD.steps IS DISTINCT FROM NEW.steps)
        EXECUTE FUNCTION campaign_experiments_restart()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER trg_campaigns_experiment_restart ON campaigns`);
    await q.query(`DROP FUNCTION campaign_experiments_restart()`);
    await q.query(`ALTER TABLE campaign_experiments DROP COLUMN started_at`);
  }
}
