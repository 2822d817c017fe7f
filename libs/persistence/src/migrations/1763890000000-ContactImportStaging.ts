import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rows of a contacts import, validated and staged while the body still arrives (each chunk by
 * its own short COPY), so no transaction waits on a client; one short transaction then merges
 * them into contacts and deletes them. UNLOGGED: they are scratch, lost only with the imports
 * they belong to. import_id is a UUIDv7, so rows an interrupted import left behind are found
 * (and swept) by the age their id carries.
 */
export class ContactImportStaging1763890000000 implements MigrationInterface {
  name = 'ContactImportStaging1763890000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE UNLOGGED TABLE contact_import_rows (
        import_id uuid NOT NULL,
        chunk int NOT NULL,
        row int NOT NULL,
        id uuid NOT NULL,
        mask int NOT NULL,
        email text,
        external_ref text,
        profile_url text,
        first_name text,
        last_name text,
        birth_date date,
        time_zone text,
        status text,
        tags text[],
        attributes jsonb,
        attr_removed text[],
        created_at timestamptz(3) NOT NULL,
        PRIMARY KEY (import_id, chunk, row)
      )`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE contact_import_rows`);
  }
}
