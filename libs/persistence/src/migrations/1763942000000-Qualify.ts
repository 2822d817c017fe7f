import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Qualifying leads (issue 11): what a website assessment and an enrichment lookup learned,
 * kept per tenant for a TTL so a domain seen again (in this run, the next, a rescore) is not
 * fetched again. A row past `expires_at` is refetched and overwritten.
 */
export class Qualify1763942000000 implements MigrationInterface {
  name = 'Qualify1763942000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE site_assessments (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        -- The website's host, lower case, without www. and port.
        domain text NOT NULL CONSTRAINT ck_site_assessments_domain CHECK (char_length(domain) BETWEEN 1 AND 253),
        result jsonb NOT NULL,
        fetched_at timestamptz(3) NOT NULL DEFAULT now(),
        expires_at timestamptz(3) NOT NULL,
        CONSTRAINT pk_site_assessments PRIMARY KEY (tenant_id, domain)
      )`);
    await q.query(`CREATE INDEX idx_site_assessments_expires ON site_assessments (expires_at)`);
    await q.query(`
      CREATE TABLE enrichment_lookups (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        source_account_id uuid NOT NULL,
        -- 'domain:<domain>' or 'email:<normalised email>'.
        lookup_key text NOT NULL CONSTRAINT ck_enrichment_lookups_key CHECK (char_length(lookup_key) BETWEEN 1 AND 400),
        -- The mapped fields, or { "not_found": true }.
        result jsonb NOT NULL,
        fetched_at timestamptz(3) NOT NULL DEFAULT now(),
        expires_at timestamptz(3) NOT NULL,
        CONSTRAINT pk_enrichment_lookups PRIMARY KEY (tenant_id, source_account_id, lookup_key)
      )`);
    await q.query(`CREATE INDEX idx_enrichment_lookups_expires ON enrichment_lookups (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE enrichment_lookups`);
    await q.query(`DROP TABLE site_assessments`);
  }
}
