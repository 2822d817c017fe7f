import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Quota accounting in Postgres (libs/rate-limit, docs/adr/0001-quota-fallback.md): the source
 * of truth for how much of each window was handed out — leased to Redis in blocks or reserved
 * directly while Redis is unreachable — and the fallback's reservation records.
 * Rows are keyed by sender account (or run) id, never read by tenant: no tenant_id.
 */
export class QuotaFallback1763840000000 implements MigrationInterface {
  name = 'QuotaFallback1763840000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE quota_usage (
        scope text NOT NULL,
        window_id text NOT NULL,
        limit_units integer NOT NULL CHECK (limit_units >= 0),
        used integer NOT NULL DEFAULT 0 CHECK (used >= 0),
        leased integer NOT NULL DEFAULT 0 CHECK (leased >= 0),
        expires_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, window_id)
      )`);
    await q.query('CREATE INDEX idx_quota_usage_expires_at ON quota_usage (expires_at)');
    await q.query(`
      CREATE TABLE quota_reservations (
        id text PRIMARY KEY,
        scope text NOT NULL,
        buckets jsonb NOT NULL,
        units integer NOT NULL CHECK (units > 0),
        state text NOT NULL CHECK (state IN ('reserved', 'committed', 'refunded')),
        reserved_at timestamptz NOT NULL,
        resolved_at timestamptz,
        expires_at timestamptz NOT NULL
      )`);
    await q.query(
      `CREATE INDEX idx_quota_reservations_pending ON quota_reservations (reserved_at) WHERE state = 'reserved'`,
    );
    await q.query('CREATE INDEX idx_quota_reservations_expires_at ON quota_reservations (expires_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE quota_reservations');
    await q.query('DROP TABLE quota_usage');
  }
}
