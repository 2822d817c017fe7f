import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The funnel's sourcing stages in the analytics rollups (issue 12 item 6): `sourced` (candidates
 * found) and `contacts` (of those, the ones that became contacts), both on the candidate's
 * creation day in the tenant's zone, appended as deltas by statement-level triggers like the
 * ledger's (1763933000000-AnalyticsRollups). A migration of its own because candidates are
 * created by 1763940000000-Sourcing, after the rollup tables.
 */
export class AnalyticsSourcing1763943300000 implements MigrationInterface {
  name = 'AnalyticsSourcing1763943300000';

  async up(q: QueryRunner): Promise<void> {
    // Candidates: found (sourced) and, once a contact, contacts — both on the creation day.
    const candidateDeltas = (sql: string) => `
      INSERT INTO analytics_deltas (tenant_id, day, sourced, contacts)
      SELECT c.tenant_id, (c.created_at AT TIME ZONE t.time_zone)::date, sum(c.sourced), sum(c.contacts)
        FROM (${sql}) c JOIN tenants t ON t.id = c.tenant_id
       GROUP BY 1, 2
      HAVING sum(c.sourced) <> 0 OR sum(c.contacts) <> 0`;
    await q.query(`
      CREATE FUNCTION analytics_candidates_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${candidateDeltas(`SELECT tenant_id, created_at, 1 AS sourced, (contact_id IS NOT NULL)::int AS contacts FROM new_rows`)};
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION analytics_candidates_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${candidateDeltas(`
          SELECT n.tenant_id, o.created_at, 0 AS sourced, -(o.contact_id IS NOT NULL)::int AS contacts
            FROM old_rows o JOIN new_rows n ON n.tenant_id = o.tenant_id AND n.id = o.id
           WHERE (o.contact_id IS NULL) <> (n.contact_id IS NULL) OR o.created_at <> n.created_at
          UNION ALL
          SELECT n.tenant_id, n.created_at, 0, (n.contact_id IS NOT NULL)::int
            FROM old_rows o JOIN new_rows n ON n.tenant_id = o.tenant_id AND n.id = o.id
           WHERE (o.contact_id IS NULL) <> (n.contact_id IS NULL) OR o.created_at <> n.created_at`)};
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER trg_candidates_analytics_insert AFTER INSERT ON candidates
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_candidates_inserted()`);
    await q.query(`
      CREATE TRIGGER trg_candidates_analytics_update AFTER UPDATE ON candidates
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION analytics_candidates_updated()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER trg_candidates_analytics_update ON candidates`);
    await q.query(`DROP TRIGGER trg_candidates_analytics_insert ON candidates`);
    await q.query(`DROP FUNCTION analytics_candidates_updated()`);
    await q.query(`DROP FUNCTION analytics_candidates_inserted()`);
  }
}
