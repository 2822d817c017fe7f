import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Console sign-in (issue #13): a key pasted once becomes a short-lived, revocable session behind
 * an HttpOnly cookie. Only hashes are stored: a database dump signs nobody in.
 *
 * - `console_sessions`: one row per signed-in browser. `api_key_id` is the key it came from (null
 *   with `tenant_id` null: the platform admin key); the session acts with that key's scopes and
 *   ends when the key is revoked (the lookup joins api_keys) or the tenant is deleted; a platform
 *   session keeps `platform_binding` (an HMAC of the admin key keyed by the session token), so
 *   changing HERALD_ADMIN_KEY ends it.
 *   `expires_at` is the absolute end; idleness is `last_seen_at` plus the configured timeout.
 * - `console_sign_in_links`: one-time links (`/console/sign-in?token=…`) minted for a key or the
 *   platform; `used_at` makes them single use (the consuming UPDATE is guarded by it).
 */
export class ConsoleSessions1763915000000 implements MigrationInterface {
  name = 'ConsoleSessions1763915000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE console_sessions (
        token_hash bytea NOT NULL CONSTRAINT ck_console_sessions_token_hash CHECK (octet_length(token_hash) = 32),
        tenant_id uuid REFERENCES tenants (id) ON DELETE CASCADE,
        api_key_id uuid,
        scopes text[] NOT NULL CONSTRAINT ck_console_sessions_scopes
          CHECK (scopes <@ ARRAY['read', 'write', 'admin']::text[]),
        csrf_token_hash bytea NOT NULL CONSTRAINT ck_console_sessions_csrf CHECK (octet_length(csrf_token_hash) = 32),
        platform_binding bytea,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        last_seen_at timestamptz(3) NOT NULL DEFAULT now(),
        expires_at timestamptz(3) NOT NULL,
        CONSTRAINT pk_console_sessions PRIMARY KEY (token_hash),
        CONSTRAINT ck_console_sessions_owner CHECK ((tenant_id IS NULL) = (api_key_id IS NULL)),
        CONSTRAINT ck_console_sessions_platform CHECK ((tenant_id IS NULL) = (platform_binding IS NOT NULL)),
        CONSTRAINT fk_console_sessions_api_key FOREIGN KEY (tenant_id, api_key_id)
          REFERENCES api_keys (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX idx_console_sessions_api_key ON console_sessions (tenant_id, api_key_id)`);
    await q.query(`CREATE INDEX idx_console_sessions_expires ON console_sessions (expires_at)`);
    await q.query(`
      CREATE TABLE console_sign_in_links (
        token_hash bytea NOT NULL CONSTRAINT ck_console_sign_in_links_token_hash CHECK (octet_length(token_hash) = 32),
        tenant_id uuid REFERENCES tenants (id) ON DELETE CASCADE,
        api_key_id uuid,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        expires_at timestamptz(3) NOT NULL,
        used_at timestamptz(3),
        CONSTRAINT pk_console_sign_in_links PRIMARY KEY (token_hash),
        CONSTRAINT ck_console_sign_in_links_owner CHECK ((tenant_id IS NULL) = (api_key_id IS NULL)),
        CONSTRAINT fk_console_sign_in_links_api_key FOREIGN KEY (tenant_id, api_key_id)
          REFERENCES api_keys (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX idx_console_sign_in_links_expires ON console_sign_in_links (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE console_sign_in_links`);
    await q.query(`DROP TABLE console_sessions`);
  }
}
