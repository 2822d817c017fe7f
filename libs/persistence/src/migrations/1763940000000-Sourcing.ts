import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Finding leads (issue 11): source accounts (a directory, profile visits, a CSV list, an
 * enrichment provider) with quotas like sender accounts; scoring models, versioned, so a run
 * records the version it scored with; sourcing jobs and their runs, which resume from `cursor`
 * after a crash; and candidates — one row per business or person a run found, moving through
 * discovered → duplicate | assessed → enriched → scored → handed_off | rejected.
 * A run inserts a candidate at most once per `source_key` (the connector's identity for it), so
 * a batch repeated after a crash adds nothing.
 */
export class Sourcing1763940000000 implements MigrationInterface {
  name = 'Sourcing1763940000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE source_accounts (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id uuid NOT NULL,
        name text NOT NULL CONSTRAINT ck_source_accounts_name CHECK (char_length(name) BETWEEN 1 AND 100),
        kind text NOT NULL CONSTRAINT ck_source_accounts_kind CHECK (kind IN ('http-directory', 'profile-visit', 'csv', 'http-enrichment')),
        -- Non-secret settings in clear; the whole config encrypted in credentials (as sender accounts).
        settings jsonb NOT NULL DEFAULT '{}',
        credentials text NOT NULL,
        quota_hourly integer CONSTRAINT ck_source_accounts_quota_hourly CHECK (quota_hourly >= 0),
        quota_daily integer CONSTRAINT ck_source_accounts_quota_daily CHECK (quota_daily >= 0),
        quota_weekly integer CONSTRAINT ck_source_accounts_quota_weekly CHECK (quota_weekly >= 0),
        time_zone text NOT NULL,
        status text NOT NULL DEFAULT 'active' CONSTRAINT ck_source_accounts_status CHECK (status IN ('active', 'paused', 'disabled')),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_source_accounts PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(
      `CREATE INDEX idx_source_accounts_tenant_created ON source_accounts (tenant_id, created_at, id)`,
    );

    await q.query(`
      CREATE TABLE scoring_models (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id uuid NOT NULL,
        name text NOT NULL CONSTRAINT ck_scoring_models_name CHECK (char_length(name) BETWEEN 1 AND 100),
        current_version integer NOT NULL DEFAULT 1,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_scoring_models PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(`
      CREATE TABLE scoring_model_versions (
        tenant_id uuid NOT NULL,
        model_id uuid NOT NULL,
        version integer NOT NULL CONSTRAINT ck_scoring_model_versions_version CHECK (version >= 1),
        -- [{ name, field, op: equals|in|range|exists|contains, value…, points }]
        rules jsonb NOT NULL CONSTRAINT ck_scoring_model_versions_rules CHECK (jsonb_typeof(rules) = 'array'),
        -- { "A": 80, "B": 60, "C": 40 } — below the lowest threshold is D.
        tiers jsonb NOT NULL CONSTRAINT ck_scoring_model_versions_tiers CHECK (jsonb_typeof(tiers) = 'object'),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_scoring_model_versions PRIMARY KEY (tenant_id, model_id, version),
        CONSTRAINT fk_scoring_model_versions_model FOREIGN KEY (tenant_id, model_id)
          REFERENCES scoring_models (tenant_id, id) ON DELETE CASCADE
      )`);

    await q.query(`
      CREATE TABLE sourcing_jobs (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id uuid NOT NULL,
        name text NOT NULL CONSTRAINT ck_sourcing_jobs_name CHECK (char_length(name) BETWEEN 1 AND 200),
        source_account_id uuid NOT NULL,
        criteria jsonb NOT NULL DEFAULT '{}',
        "limit" integer NOT NULL CONSTRAINT ck_sourcing_jobs_limit CHECK ("limit" BETWEEN 1 AND 1000000),
        -- { cron, time_zone? } in the tenant's zone, as campaign schedules; null: manual only.
        schedule jsonb,
        scoring_model_id uuid NOT NULL,
        -- Per tier: { "A": { action: contact|enroll|hold, campaign_id? }, … }
        handoff jsonb NOT NULL DEFAULT '{}',
        status text NOT NULL DEFAULT 'active' CONSTRAINT ck_sourcing_jobs_status CHECK (status IN ('active', 'archived')),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_sourcing_jobs PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(
      `CREATE INDEX idx_sourcing_jobs_tenant_created ON sourcing_jobs (tenant_id, created_at, id)`,
    );

    await q.query(`
      CREATE TABLE sourcing_runs (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        job_id uuid NOT NULL,
        trigger text NOT NULL CONSTRAINT ck_sourcing_runs_trigger CHECK (trigger IN ('schedule', 'manual', 'rescore')),
        dry_run boolean NOT NULL DEFAULT false,
        status text NOT NULL DEFAULT 'queued'
          CONSTRAINT ck_sourcing_runs_status CHECK (status IN ('queued', 'running', 'paused', 'completed', 'cancelled', 'failed')),
        scheduled_for date,
        scoring_model_id uuid NOT NULL,
        scoring_model_version integer NOT NULL,
        -- The connector's resume point: the next page or profile to fetch. A crash resumes here.
        cursor text,
        exhausted boolean NOT NULL DEFAULT false,
        discovered integer NOT NULL DEFAULT 0,
        duplicates integer NOT NULL DEFAULT 0,
        requests_spent integer NOT NULL DEFAULT 0,
        forecast jsonb,
        reason text,
        error text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        started_at timestamptz(3),
        finished_at timestamptz(3),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        last_progress_at timestamptz(3),
        CONSTRAINT pk_sourcing_runs PRIMARY KEY (tenant_id, id),
        CONSTRAINT fk_sourcing_runs_job FOREIGN KEY (tenant_id, job_id)
          REFERENCES sourcing_jobs (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query(
      `CREATE INDEX idx_sourcing_runs_tenant_job ON sourcing_runs (tenant_id, job_id, created_at DESC)`,
    );
    await q.query(
      `CREATE UNIQUE INDEX uq_sourcing_runs_schedule ON sourcing_runs (tenant_id, job_id, scheduled_for) WHERE scheduled_for IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX idx_sourcing_runs_active ON sourcing_runs (status) WHERE status IN ('queued', 'running', 'paused')`,
    );

    await q.query(`
      CREATE TABLE candidates (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        run_id uuid NOT NULL,
        job_id uuid NOT NULL,
        source_account_id uuid NOT NULL,
        -- The connector's identity for the candidate (external id, profile URL, row hash): unique per run.
        source_key text NOT NULL CONSTRAINT ck_candidates_source_key CHECK (char_length(source_key) BETWEEN 1 AND 500),
        stage text NOT NULL DEFAULT 'discovered' CONSTRAINT ck_candidates_stage CHECK (stage IN
          ('discovered', 'duplicate', 'assessed', 'enriched', 'scored', 'handed_off', 'rejected')),
        -- Scored and waiting for a person to approve or reject (a tier whose hand-off is 'hold').
        held boolean NOT NULL DEFAULT false,
        name text,
        name_normalised text,
        email text,
        email_normalised text,
        phone text,
        website text,
        website_domain text,
        profile_url text,
        external_id text,
        category text,
        address jsonb,
        -- Everything learned: connector fields, assessment, enrichment.
        facts jsonb NOT NULL DEFAULT '{}',
        raw_hash text NOT NULL,
        -- A duplicate names what it duplicates: { contact_id } or { candidate_id }, and by which rule.
        duplicate_of jsonb,
        score integer,
        tier char(1) CONSTRAINT ck_candidates_tier CHECK (tier IN ('A', 'B', 'C', 'D')),
        scoring_model_version integer,
        -- [{ rule, points, reason }]: why the score is what it is.
        explain jsonb,
        -- Why it stopped or what failed on the way (an enrichment failure marks, never stops).
        reason text,
        contact_id uuid,
        enrollment_id uuid,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_candidates PRIMARY KEY (tenant_id, id),
        CONSTRAINT uq_candidates_run_source_key UNIQUE (tenant_id, run_id, source_key),
        CONSTRAINT fk_candidates_run FOREIGN KEY (tenant_id, run_id)
          REFERENCES sourcing_runs (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX idx_candidates_run_stage ON candidates (tenant_id, run_id, stage, id)`);
    await q.query(`CREATE INDEX idx_candidates_run_tier ON candidates (tenant_id, run_id, tier, id)`);
    // Dedupe lookups (against earlier candidates of the tenant).
    await q.query(
      `CREATE INDEX idx_candidates_email ON candidates (tenant_id, email_normalised) WHERE email_normalised IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX idx_candidates_external ON candidates (tenant_id, source_account_id, external_id) WHERE external_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX idx_candidates_profile ON candidates (tenant_id, profile_url) WHERE profile_url IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX idx_candidates_domain_name ON candidates (tenant_id, website_domain, name_normalised) WHERE website_domain IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE candidates`);
    await q.query(`DROP TABLE sourcing_runs`);
    await q.query(`DROP TABLE sourcing_jobs`);
    await q.query(`DROP TABLE scoring_model_versions`);
    await q.query(`DROP TABLE scoring_models`);
    await q.query(`DROP TABLE source_accounts`);
  }
}
