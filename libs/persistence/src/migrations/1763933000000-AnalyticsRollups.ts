import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The rollup's counters, in the order both tables declare them. */
const COUNTERS = [
  'targeted',
  'sent',
  'delivered',
  'bounced',
  'complained',
  'opened',
  'clicked',
  'replied',
  'unsubscribed',
  'converted',
  'sourced',
  'contacts',
];

/** A delivery's place in the rollups: its dimensions; `at` is the instant that picks its local day. */
const DIMENSIONS = `tenant_id, campaign_id, step, variant, sender_account_id`;

/**
 * A delivery row's contributions (targeted on the day it was created; sent, once it is, on the
 * day it was sent), signed, from a transition table `rows` (alias r) filtered by `filter`.
 */
function contributions(rows: string, sign: number, filter = 'true'): string {
  return `
    SELECT r.tenant_id, r.campaign_id, r.step, r.variant, r.sender_account_id, r.created_at AS at, ${sign} AS targeted, 0 AS sent
      FROM ${rows} r WHERE ${filter}
    UNION ALL
    SELECT r.tenant_id, r.campaign_id, r.step, r.variant, r.sender_account_id, coalesce(r.sent_at, r.created_at), 0, ${sign}
      FROM ${rows} r WHERE r.status = 'sent' AND ${filter}`;
}

/** Groups signed contributions into one delta row per dimension × local day. */
function appendDeltas(contributionsSql: string): string {
  return `
    INSERT INTO analytics_deltas (${DIMENSIONS}, day, targeted, sent)
    SELECT c.tenant_id, c.campaign_id, c.step, c.variant, c.sender_account_id,
           (c.at AT TIME ZONE t.time_zone)::date, sum(c.targeted), sum(c.sent)
      FROM (${contributionsSql}) c
      JOIN tenants t ON t.id = c.tenant_id
     GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(c.targeted) <> 0 OR sum(c.sent) <> 0`;
}

/**
 * Analytics rollups (issue 12 item 6): per tenant × campaign × step × variant × sender account
 * × local day (tenant's zone) × currency, the counts of what happened to the messages.
 *
 * Writers never update a rollup row: they append signed deltas (one statement-level trigger per
 * ledger statement, one row per new engagement event), and beat folds the deltas into
 * `analytics_rollups` every few seconds. So thousands of sends a second touch no shared row,
 * and a reader adds the deltas not folded yet to the folded rows: exact at any moment, with no
 * scan of deliveries or events. Dimensions a row lacks are null (NULLS NOT DISTINCT keeps one
 * row per key); `currency` is set only on rows carrying revenue.
 *
 * Ledger contributions (targeted, sent) come from triggers on deliveries so the send pipeline
 * stays as it is; an UPDATE that moves a delivery (status to or from sent, variant set at
 * render, another sender account) appends minus its old contribution and plus its new one.
 * Sourcing's `sourced` and `contacts` come from triggers on candidates, added by
 * 1763943300000-AnalyticsSourcing (candidates are created after this migration).
 */
export class AnalyticsRollups1763933000000 implements MigrationInterface {
  name = 'AnalyticsRollups1763933000000';

  async up(q: QueryRunner): Promise<void> {
    const counters = COUNTERS.map((c) => `${c} bigint NOT NULL DEFAULT 0`).join(',\n        ');
    const keyColumns = `
        tenant_id uuid NOT NULL,
        campaign_id uuid,
        step smallint,
        variant text,
        sender_account_id uuid,
        day date NOT NULL,
        currency char(3),`;
    await q.query(`
      CREATE TABLE analytics_rollups (${keyColumns}
        ${counters},
        revenue numeric(24, 4) NOT NULL DEFAULT 0,
        CONSTRAINT fk_analytics_rollups_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT uq_analytics_rollups_key UNIQUE NULLS NOT DISTINCT
          (tenant_id, campaign_id, day, step, variant, sender_account_id, currency)
      )`);
    await q.query(`CREATE INDEX idx_analytics_rollups_tenant_day ON analytics_rollups (tenant_id, day)`);
    // Append-only and short-lived (folded within seconds): no key, no foreign key.
    await q.query(`
      CREATE TABLE analytics_deltas (${keyColumns}
        ${counters},
        revenue numeric(24, 4) NOT NULL DEFAULT 0
      )`);
    await q.query(`CREATE INDEX idx_analytics_deltas_key ON analytics_deltas (tenant_id, campaign_id, day)`);

    await q.query(`
      CREATE FUNCTION analytics_deliveries_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${appendDeltas(contributions('new_rows', 1))};
        RETURN NULL;
      END $$`);
    // Only rows whose contribution changed; a claim or a lease renewal appends nothing.
    const moved = `(o.campaign_id, o.step, o.variant, o.sender_account_id, o.created_at, o.status = 'sent',
                    CASE WHEN o.status = 'sent' THEN o.sent_at END)
        IS DISTINCT FROM (n.campaign_id, n.step, n.variant, n.sender_account_id, n.created_at, n.status = 'sent',
                    CASE WHEN n.status = 'sent' THEN n.sent_at END)`;
    await q.query(`
      CREATE FUNCTION analytics_deliveries_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${appendDeltas(`
          WITH changed AS (
            SELECT n.tenant_id, n.id FROM old_rows o JOIN new_rows n ON n.tenant_id = o.tenant_id AND n.id = o.id
             WHERE ${moved}
          )
          ${contributions('old_rows', -1, 'EXISTS (SELECT 1 FROM changed x WHERE x.tenant_id = r.tenant_id AND x.id = r.id)')}
          UNION ALL
          ${contributions('new_rows', 1, 'EXISTS (SELECT 1 FROM changed x WHERE x.tenant_id = r.tenant_id AND x.id = r.id)')}`)};
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER trg_deliveries_analytics_insert AFTER INSERT ON deliveries
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_deliveries_inserted()`);
    await q.query(`
      CREATE TRIGGER trg_deliveries_analytics_update AFTER UPDATE ON deliveries
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION analytics_deliveries_updated()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER trg_deliveries_analytics_update ON deliveries`);
    await q.query(`DROP TRIGGER trg_deliveries_analytics_insert ON deliveries`);
    await q.query(`DROP FUNCTION analytics_deliveries_updated()`);
    await q.query(`DROP FUNCTION analytics_deliveries_inserted()`);
    await q.query(`DROP TABLE analytics_deltas`);
    await q.query(`DROP TABLE analytics_rollups`);
  }
}
