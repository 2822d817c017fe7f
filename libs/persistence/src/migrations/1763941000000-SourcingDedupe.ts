import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dedupe of found leads against contacts (issue 11): `sourcing_email_key(email)` is the
 * normalised email candidates carry in `email_normalised` (libs/sourcing/src/dedupe/normalise.ts
 * computes the same: lowercase, `+tag` dropped, Gmail's dots dropped), indexed on contacts so a
 * batch of candidates finds its contacts without scanning the tenant's. And a run's count of
 * consecutive transient failures.
 */
export class SourcingDedupe1763941000000 implements MigrationInterface {
  name = 'SourcingDedupe1763941000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION sourcing_email_key(email text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $$
        SELECT CASE
          WHEN n <> 2 OR l = '' OR d = '' THEN NULL
          WHEN d IN ('gmail.com', 'googlemail.com') THEN replace(l, '.', '') || '@gmail.com'
          ELSE l || '@' || d
        END
        FROM (SELECT array_length(string_to_array(e, '@'), 1) AS n,
                     split_part(split_part(e, '@', 1), '+', 1) AS l,
                     split_part(e, '@', 2) AS d
                FROM (SELECT lower(btrim(email)) AS e) AS a) AS b
      $$`);
    await q.query(
      `CREATE INDEX idx_contacts_email_key ON contacts (tenant_id, sourcing_email_key(email)) WHERE email IS NOT NULL`,
    );
    // Consecutive transient failures of a run's current step (reset by a step that succeeds):
    // the run retries with backoff and fails, with its error, after a bound.
    await q.query(`ALTER TABLE sourcing_runs ADD COLUMN failures integer NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sourcing_runs DROP COLUMN failures`);
    await q.query(`DROP INDEX idx_contacts_email_key`);
    await q.query(`DROP FUNCTION sourcing_email_key(text)`);
  }
}
