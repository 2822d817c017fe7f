import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A/B/n experiments and weekly reports (issue 12, items 5 and 7). The variants themselves live
 * in the campaign's step (`campaigns.steps[i].variants`); `campaign_experiments` holds what was
 * decided about a step's experiment: the last evaluation, the winner once called, and the
 * promoted variant every later delivery of the step gets. `report_settings` says where a
 * tenant's weekly report goes; `weekly_reports` holds one row per tenant and ISO week, so a
 * report is delivered once however often beat looks.
 */
export class Experiments1763934000000 implements MigrationInterface {
  name = 'Experiments1763934000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE campaign_experiments (
        tenant_id uuid NOT NULL,
        campaign_id uuid NOT NULL,
        step smallint NOT NULL CONSTRAINT ck_campaign_experiments_step CHECK (step >= 0),
        winner text CONSTRAINT ck_campaign_experiments_winner CHECK (char_length(winner) BETWEEN 1 AND 40),
        decided_at timestamptz(3),
        promoted_variant text CONSTRAINT ck_campaign_experiments_promoted CHECK (char_length(promoted_variant) BETWEEN 1 AND 40),
        promoted_by text CONSTRAINT ck_campaign_experiments_promoted_by CHECK (promoted_by IN ('auto', 'manual')),
        promoted_at timestamptz(3),
        -- The last evaluation (counts, rates, z, p), as the API shows it.
        verdict jsonb,
        evaluated_at timestamptz(3),
        CONSTRAINT pk_campaign_experiments PRIMARY KEY (tenant_id, campaign_id, step),
        CONSTRAINT fk_campaign_experiments_campaign FOREIGN KEY (tenant_id, campaign_id)
          REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT ck_campaign_experiments_promotion CHECK ((promoted_variant IS NULL) = (promoted_at IS NULL))
      )`);
    // Which campaigns' sends carry a variant, for counting them per variant without a scan.
    await q.query(
      `CREATE INDEX idx_deliveries_variant ON deliveries (tenant_id, campaign_id, step, variant) WHERE variant IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE report_settings (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        delivery text NOT NULL CONSTRAINT ck_report_settings_delivery CHECK (delivery IN ('email', 'webhook', 'off')),
        -- An smtp account (email) or a webhook account (its URL and signing secret) of the tenant.
        sender_account_id uuid,
        recipients text[] NOT NULL DEFAULT '{}' CONSTRAINT ck_report_settings_recipients CHECK (cardinality(recipients) <= 20),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_report_settings PRIMARY KEY (tenant_id),
        CONSTRAINT fk_report_settings_account FOREIGN KEY (tenant_id, sender_account_id)
          REFERENCES sender_accounts (tenant_id, id) ON DELETE SET NULL (sender_account_id),
        CONSTRAINT ck_report_settings_account CHECK (delivery = 'off' OR sender_account_id IS NOT NULL)
      )`);
    await q.query(`
      CREATE TABLE weekly_reports (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        -- ISO week in the tenant's zone, e.g. 2026-W49.
        week text NOT NULL CONSTRAINT ck_weekly_reports_week CHECK (week ~ '^[0-9]{4}-W[0-9]{2}$'),
        status text NOT NULL DEFAULT 'pending' CONSTRAINT ck_weekly_reports_status CHECK (status IN ('pending', 'delivered', 'failed', 'off')),
        delivery text,
        attempts integer NOT NULL DEFAULT 0,
        last_error text CONSTRAINT ck_weekly_reports_last_error CHECK (char_length(last_error) <= 1000),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        delivered_at timestamptz(3),
        CONSTRAINT pk_weekly_reports PRIMARY KEY (tenant_id, week)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE weekly_reports`);
    await q.query(`DROP TABLE report_settings`);
    await q.query(`DROP INDEX idx_deliveries_variant`);
    await q.query(`DROP TABLE campaign_experiments`);
  }
}
