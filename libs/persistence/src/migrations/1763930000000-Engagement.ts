import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What happened after a send (issue 12): one row per engagement event — a provider's delivered,
 * bounced, complained; a tracked open or click; an unsubscribe; a reply; a conversion — whatever
 * its source. Idempotent on the source's own event id, so a replayed webhook changes nothing.
 * The delivery's dimensions (campaign, step, variant, sender account, contact) are copied in so
 * rollups and reports never join back to the ledger. `deliveries.variant` is the A/B/n variant a
 * delivery was rendered with (null without an experiment).
 */
export class Engagement1763930000000 implements MigrationInterface {
  name = 'Engagement1763930000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE deliveries ADD COLUMN variant text CONSTRAINT ck_deliveries_variant CHECK (char_length(variant) BETWEEN 1 AND 40)`,
    );
    await q.query(`
      CREATE TABLE engagement_events (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id uuid NOT NULL,
        kind text NOT NULL CONSTRAINT ck_engagement_events_kind CHECK (kind IN
          ('delivered', 'bounced', 'complained', 'opened', 'clicked', 'replied', 'unsubscribed', 'converted')),
        bounce_type text CONSTRAINT ck_engagement_events_bounce_type CHECK (bounce_type IN ('hard', 'soft')),
        -- Where it came from: a provider (sendgrid, ses, postmark, mailgun), tracking, the unsubscribe page, the api.
        source text NOT NULL CONSTRAINT ck_engagement_events_source CHECK (char_length(source) BETWEEN 1 AND 40),
        -- The source's own id for the event: what makes a replay a no-op.
        source_event_id text NOT NULL CONSTRAINT ck_engagement_events_source_event_id CHECK (char_length(source_event_id) BETWEEN 1 AND 300),
        delivery_id uuid,
        contact_id uuid,
        campaign_id uuid,
        step smallint,
        variant text,
        sender_account_id uuid,
        -- A prefetcher or scanner (image proxy, link checker): kept, never counted as a person.
        machine boolean NOT NULL DEFAULT false,
        url text CONSTRAINT ck_engagement_events_url CHECK (char_length(url) <= 2000),
        value numeric(20, 4),
        currency char(3),
        details jsonb NOT NULL DEFAULT '{}',
        occurred_at timestamptz(3) NOT NULL,
        recorded_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_engagement_events PRIMARY KEY (tenant_id, id),
        CONSTRAINT uq_engagement_events_source UNIQUE (tenant_id, source, source_event_id)
      )`);
    await q.query(
      `CREATE INDEX idx_engagement_events_delivery ON engagement_events (tenant_id, delivery_id) WHERE delivery_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX idx_engagement_events_campaign ON engagement_events (tenant_id, campaign_id, occurred_at)`,
    );
    await q.query(
      `CREATE INDEX idx_engagement_events_contact ON engagement_events (tenant_id, contact_id, occurred_at DESC)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE engagement_events`);
    await q.query(`ALTER TABLE deliveries DROP COLUMN variant`);
  }
}
