import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sender accounts, campaigns, runs, the delivery ledger and the outbox.
 *
 * The ledger's UNIQUE (tenant_id, delivery_key) is promise 2's last line of defence: whatever
 * retries, crashes or Redis losses happen, one delivery key has one row, and a row is only
 * ever moved to `sent` once. The outbox makes promise 3 hold across a Redis outage: a run is
 * accepted by writing it and its job in one transaction; a relay enqueues later if it must.
 */
export class DeliveryEngine1763850000000 implements MigrationInterface {
  name = 'DeliveryEngine1763850000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sender_accounts (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id uuid NOT NULL,
        name text NOT NULL CONSTRAINT ck_sender_accounts_name CHECK (char_length(name) BETWEEN 1 AND 100),
        channel text NOT NULL CONSTRAINT ck_sender_accounts_channel CHECK (channel IN ('smtp', 'webhook', 'dry-run')),
        -- Non-secret settings (host, port, url…) in clear; the whole config encrypted in credentials.
        settings jsonb NOT NULL DEFAULT '{}',
        credentials text NOT NULL,
        quota_hourly integer CONSTRAINT ck_sender_accounts_quota_hourly CHECK (quota_hourly >= 0),
        quota_daily integer CONSTRAINT ck_sender_accounts_quota_daily CHECK (quota_daily >= 0),
        quota_weekly integer CONSTRAINT ck_sender_accounts_quota_weekly CHECK (quota_weekly >= 0),
        time_zone text NOT NULL,
        status text NOT NULL DEFAULT 'active' CONSTRAINT ck_sender_accounts_status CHECK (status IN ('active', 'paused', 'disabled')),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_sender_accounts PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(
      `CREATE INDEX idx_sender_accounts_tenant_created ON sender_accounts (tenant_id, created_at, id)`,
    );

    await q.query(`
      CREATE TABLE campaigns (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id uuid NOT NULL,
        name text NOT NULL CONSTRAINT ck_campaigns_name CHECK (char_length(name) BETWEEN 1 AND 200),
        kind text NOT NULL CONSTRAINT ck_campaigns_kind CHECK (kind IN ('birthday', 'broadcast', 'sequence', 'sourcing')),
        sender_account_id uuid NOT NULL,
        steps jsonb NOT NULL CONSTRAINT ck_campaigns_steps CHECK (jsonb_typeof(steps) = 'array' AND jsonb_array_length(steps) BETWEEN 1 AND 20),
        audience jsonb NOT NULL DEFAULT '{}',
        schedule jsonb,
        send_window jsonb,
        run_cap integer CONSTRAINT ck_campaigns_run_cap CHECK (run_cap > 0),
        quota_policy text NOT NULL DEFAULT 'defer' CONSTRAINT ck_campaigns_quota_policy CHECK (quota_policy IN ('defer', 'skip')),
        catch_up text NOT NULL DEFAULT 'fire_once' CONSTRAINT ck_campaigns_catch_up CHECK (catch_up IN ('fire_once', 'skip')),
        status text NOT NULL DEFAULT 'active' CONSTRAINT ck_campaigns_status CHECK (status IN ('active', 'paused', 'archived')),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_campaigns PRIMARY KEY (tenant_id, id),
        CONSTRAINT fk_campaigns_sender_account FOREIGN KEY (tenant_id, sender_account_id)
          REFERENCES sender_accounts (tenant_id, id)
      )`);
    await q.query(`CREATE INDEX idx_campaigns_tenant_created ON campaigns (tenant_id, created_at, id)`);
    await q.query(
      `CREATE INDEX idx_campaigns_scheduled ON campaigns (kind, status) WHERE schedule IS NOT NULL`,
    );

    await q.query(`
      CREATE TABLE campaign_runs (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        campaign_id uuid NOT NULL,
        trigger text NOT NULL CONSTRAINT ck_campaign_runs_trigger CHECK (trigger IN ('schedule', 'manual')),
        dry_run boolean NOT NULL DEFAULT false,
        status text NOT NULL DEFAULT 'queued'
          CONSTRAINT ck_campaign_runs_status CHECK (status IN ('queued', 'running', 'completed', 'cancelled', 'failed')),
        -- The local day a scheduled run fires for: one run per campaign and day, however often beat fires.
        scheduled_for date,
        targeted integer NOT NULL DEFAULT 0,
        -- Fan-out progress: the last contact (created_at, id) whose delivery is in the ledger.
        cursor text,
        fanout_done boolean NOT NULL DEFAULT false,
        forecast jsonb,
        error text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        started_at timestamptz(3),
        finished_at timestamptz(3),
        CONSTRAINT pk_campaign_runs PRIMARY KEY (tenant_id, id),
        CONSTRAINT fk_campaign_runs_campaign FOREIGN KEY (tenant_id, campaign_id)
          REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query(
      `CREATE INDEX idx_campaign_runs_tenant_campaign ON campaign_runs (tenant_id, campaign_id, created_at DESC)`,
    );
    await q.query(
      `CREATE UNIQUE INDEX uq_campaign_runs_schedule ON campaign_runs (tenant_id, campaign_id, scheduled_for) WHERE scheduled_for IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX idx_campaign_runs_active ON campaign_runs (status) WHERE status IN ('queued', 'running')`,
    );

    await q.query(`
      CREATE TABLE deliveries (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        delivery_key text NOT NULL CONSTRAINT ck_deliveries_key CHECK (char_length(delivery_key) BETWEEN 1 AND 200),
        campaign_id uuid NOT NULL,
        run_id uuid,
        contact_id uuid NOT NULL,
        sender_account_id uuid NOT NULL,
        channel text NOT NULL,
        step smallint NOT NULL DEFAULT 0,
        status text NOT NULL DEFAULT 'pending'
          CONSTRAINT ck_deliveries_status CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'deferred', 'cancelled')),
        attempts smallint NOT NULL DEFAULT 0,
        due_at timestamptz(3) NOT NULL DEFAULT now(),
        -- While sending: until when this attempt owns the row. Past it, the reconciler may resolve it.
        lease_until timestamptz(3),
        provider_message_id text,
        last_error text CONSTRAINT ck_deliveries_last_error CHECK (char_length(last_error) <= 1000),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        sent_at timestamptz(3),
        CONSTRAINT pk_deliveries PRIMARY KEY (tenant_id, id),
        CONSTRAINT uq_deliveries_tenant_key UNIQUE (tenant_id, delivery_key)
      )`);
    await q.query(`CREATE INDEX idx_deliveries_tenant_run_status ON deliveries (tenant_id, run_id, status)`);
    await q.query(
      `CREATE INDEX idx_deliveries_tenant_contact ON deliveries (tenant_id, contact_id, created_at DESC)`,
    );
    // The reconciler's scan: unfinished deliveries by how long they have been sitting.
    await q.query(
      `CREATE INDEX idx_deliveries_unfinished ON deliveries (updated_at) WHERE status IN ('pending', 'sending', 'deferred')`,
    );

    await q.query(`
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        tenant_id uuid,
        queue text NOT NULL,
        job_name text NOT NULL,
        job_id text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        dispatched_at timestamptz(3)
      )`);
    await q.query(`CREATE INDEX idx_outbox_undispatched ON outbox (created_at) WHERE dispatched_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['outbox', 'deliveries', 'campaign_runs', 'campaigns', 'sender_accounts']) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
