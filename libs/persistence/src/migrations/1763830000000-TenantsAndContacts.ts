import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys, contacts, interactions, suppressions and idempotency keys.
 *
 * Every tenant table's primary key is (tenant_id, id) and every index that serves a tenant
 * query starts with tenant_id, so a query can never wander into another tenant's rows and
 * references between tenant tables (interactions → contacts) cannot cross tenants either.
 * Timestamps have millisecond precision so keyset cursors round-trip through JavaScript exactly.
 */
export class TenantsAndContacts1763830000000 implements MigrationInterface {
  name = 'TenantsAndContacts1763830000000';

  async up(q: QueryRunner): Promise<void> {
    // Tag keys qualified by tenant ('<tenant id>:<tag>'): the GIN index over them finds one
    // tenant's contacts with a tag without reading another tenant's posting lists, and its
    // statistics are per tenant and tag. PL/pgSQL, not a subquery: it runs for every row written.
    await q.query(`
      CREATE FUNCTION contact_tag_keys(tenant uuid, tags text[]) RETURNS text[]
      LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
      DECLARE
        prefix text := tenant::text || ':';
        keys text[] := '{}';
        tag text;
      BEGIN
        FOREACH tag IN ARRAY tags LOOP
          keys := keys || (prefix || tag);
        END LOOP;
        RETURN keys;
      END $$`);

    await q.query(`
      CREATE TABLE api_keys (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        name text NOT NULL CONSTRAINT ck_api_keys_name CHECK (char_length(name) BETWEEN 1 AND 100),
        prefix text NOT NULL CONSTRAINT ck_api_keys_prefix CHECK (prefix ~ '^[0-9A-Za-z]{12}$'),
        secret_hash bytea NOT NULL CONSTRAINT ck_api_keys_secret_hash CHECK (octet_length(secret_hash) = 32),
        scopes text[] NOT NULL CONSTRAINT ck_api_keys_scopes
          CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['read', 'write', 'admin']::text[]),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        last_used_at timestamptz(3),
        revoked_at timestamptz(3),
        CONSTRAINT pk_api_keys PRIMARY KEY (tenant_id, id)
      )`);
    // Authentication finds a key by its public prefix before it knows the tenant.
    await q.query(`CREATE UNIQUE INDEX uq_api_keys_prefix ON api_keys (prefix)`);
    await q.query(`CREATE INDEX idx_api_keys_tenant_created ON api_keys (tenant_id, created_at, id)`);

    await q.query(`
      CREATE TABLE contacts (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id uuid NOT NULL,
        email text CONSTRAINT ck_contacts_email CHECK (char_length(email) BETWEEN 3 AND 254),
        external_ref text CONSTRAINT ck_contacts_external_ref CHECK (char_length(external_ref) BETWEEN 1 AND 255),
        profile_url text CONSTRAINT ck_contacts_profile_url CHECK (char_length(profile_url) <= 2048),
        first_name text CONSTRAINT ck_contacts_first_name CHECK (char_length(first_name) <= 100),
        last_name text CONSTRAINT ck_contacts_last_name CHECK (char_length(last_name) <= 100),
        birth_date date,
        birth_md smallint GENERATED ALWAYS AS
          ((EXTRACT(MONTH FROM birth_date) * 100 + EXTRACT(DAY FROM birth_date))::smallint) STORED,
        time_zone text CONSTRAINT ck_contacts_time_zone CHECK (char_length(time_zone) <= 64),
        status text NOT NULL DEFAULT 'active'
          CONSTRAINT ck_contacts_status CHECK (status IN ('active', 'unsubscribed', 'bounced', 'archived')),
        tags text[] NOT NULL DEFAULT '{}' CONSTRAINT ck_contacts_tags CHECK (cardinality(tags) <= 50),
        attributes jsonb NOT NULL DEFAULT '{}'
          CONSTRAINT ck_contacts_attributes CHECK (jsonb_typeof(attributes) = 'object'),
        score double precision,
        tier text CONSTRAINT ck_contacts_tier CHECK (char_length(tier) <= 32),
        created_at timestamptz(3) NOT NULL,
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        archived_at timestamptz(3),
        CONSTRAINT pk_contacts PRIMARY KEY (tenant_id, id),
        CONSTRAINT ck_contacts_identified CHECK (email IS NOT NULL OR external_ref IS NOT NULL)
      )`);
    // Upsert keys. text_pattern_ops also serves `q` prefix searches (LIKE 'abc%') whatever the collation.
    await q.query(
      `CREATE UNIQUE INDEX uq_contacts_tenant_email ON contacts (tenant_id, email text_pattern_ops)`,
    );
    await q.query(
      `CREATE UNIQUE INDEX uq_contacts_tenant_external_ref ON contacts (tenant_id, external_ref)`,
    );
    // Contact ids are UUIDv7 and created_at is the id's own timestamp, so the primary key
    // (tenant_id, id) is also the creation order: it serves the default list, keyset pages and
    // created_after / created_before (as id ranges). Each other filter has an index ending in id.
    await q.query(
      `CREATE INDEX idx_contacts_tenant_status ON contacts (tenant_id, status, id) WHERE status <> 'active'`,
    );
    await q.query(
      `CREATE INDEX idx_contacts_tenant_birthday ON contacts (tenant_id, birth_md, id) WHERE birth_md IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX idx_contacts_tenant_tags ON contacts USING gin (contact_tag_keys(tenant_id, tags))`,
    );
    await q.query(
      `CREATE INDEX idx_contacts_tenant_name ON contacts
       (tenant_id, lower(btrim(coalesce(first_name, '') || ' ' || coalesce(last_name, ''))) text_pattern_ops)`,
    );

    await q.query(`
      CREATE TABLE interactions (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        contact_id uuid NOT NULL,
        type text NOT NULL CONSTRAINT ck_interactions_type
          CHECK (type IN ('delivery_sent', 'delivery_failed', 'reply', 'bounce', 'unsubscribe', 'note')),
        payload jsonb NOT NULL DEFAULT '{}'
          CONSTRAINT ck_interactions_payload CHECK (jsonb_typeof(payload) = 'object'),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_interactions PRIMARY KEY (tenant_id, id),
        CONSTRAINT fk_interactions_contact FOREIGN KEY (tenant_id, contact_id)
          REFERENCES contacts (tenant_id, id) ON DELETE CASCADE
      )`);
    // Newest first: the activity log reads backwards in time.
    await q.query(
      `CREATE INDEX idx_interactions_tenant_created ON interactions (tenant_id, created_at DESC, id DESC)`,
    );
    await q.query(
      `CREATE INDEX idx_interactions_tenant_contact ON interactions (tenant_id, contact_id, created_at DESC, id DESC)`,
    );
    await q.query(
      `CREATE INDEX idx_interactions_tenant_type ON interactions (tenant_id, type, created_at DESC, id DESC)`,
    );

    await q.query(`
      CREATE TABLE suppressions (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id uuid NOT NULL,
        email text CONSTRAINT ck_suppressions_email CHECK (char_length(email) BETWEEN 3 AND 254),
        contact_id uuid,
        reason text NOT NULL CONSTRAINT ck_suppressions_reason CHECK (reason IN ('unsubscribe', 'bounce', 'manual')),
        note text CONSTRAINT ck_suppressions_note CHECK (char_length(note) <= 500),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_suppressions PRIMARY KEY (tenant_id, id),
        CONSTRAINT ck_suppressions_target CHECK ((email IS NULL) <> (contact_id IS NULL)),
        CONSTRAINT fk_suppressions_contact FOREIGN KEY (tenant_id, contact_id)
          REFERENCES contacts (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_suppressions_tenant_email ON suppressions (tenant_id, email)`);
    await q.query(
      `CREATE UNIQUE INDEX uq_suppressions_tenant_contact ON suppressions (tenant_id, contact_id)`,
    );
    await q.query(`CREATE INDEX idx_suppressions_tenant_created ON suppressions (tenant_id, created_at, id)`);

    // tenant_id is NULL for platform-level requests (POST /v1/tenants with the platform key).
    await q.query(`
      CREATE TABLE idempotency_keys (
        id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT pk_idempotency_keys PRIMARY KEY,
        tenant_id uuid REFERENCES tenants (id) ON DELETE CASCADE,
        key text NOT NULL CONSTRAINT ck_idempotency_keys_key CHECK (char_length(key) BETWEEN 1 AND 255),
        fingerprint text NOT NULL,
        response_status smallint NOT NULL,
        response_body bytea NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        expires_at timestamptz(3) NOT NULL,
        CONSTRAINT uq_idempotency_keys_tenant_key UNIQUE NULLS NOT DISTINCT (tenant_id, key)
      )`);
    // Housekeeping deletes expired keys across tenants.
    await q.query(`CREATE INDEX idx_idempotency_keys_expires ON idempotency_keys (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE idempotency_keys');
    await q.query('DROP TABLE suppressions');
    await q.query('DROP TABLE interactions');
    await q.query('DROP TABLE contacts');
    await q.query('DROP TABLE api_keys');
    await q.query('DROP FUNCTION contact_tag_keys(uuid, text[])');
  }
}
