import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Provider events (issue 12 item 2): what SendGrid, SES, Postmark and Mailgun report about a
 * sent message, and the account health derived from it.
 *
 * - `sender_accounts.provider_webhook`: how the account's provider webhooks are verified (the
 *   SendGrid public key, the SES topic, Postmark Basic credentials, the Mailgun signing key),
 *   sealed like the credentials; `provider_webhook_provider` says which provider, in clear.
 * - `sender_accounts.paused_reason` / `paused_at`: why and when the account was paused (account
 *   health pauses it when its bounce or complaint rate crosses a threshold).
 * - `sender_accounts (id)`: a provider event names only the account; its tenant is found by id.
 * - `herald_message_digest(delivery_key)`: the part of a delivery's Message-ID
 *   (`<digest@herald>`, libs/channels message-id.ts) a provider echoes back, indexed per tenant
 *   so an event is matched to its delivery in one index probe (no column to fill on insert).
 * - `interactions.type` gains `complaint` (a spam report); the list is widened from whatever it
 *   is now, so a migration that widened it first keeps its types.
 */
export class ProviderEvents1763932000000 implements MigrationInterface {
  name = 'ProviderEvents1763932000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE sender_accounts
        ADD COLUMN provider_webhook text,
        ADD COLUMN provider_webhook_provider text
          CONSTRAINT ck_sender_accounts_provider_webhook_provider
          CHECK (provider_webhook_provider IN ('sendgrid', 'ses', 'postmark', 'mailgun')),
        ADD COLUMN paused_reason text CONSTRAINT ck_sender_accounts_paused_reason CHECK (char_length(paused_reason) <= 300),
        ADD COLUMN paused_at timestamptz(3),
        ADD CONSTRAINT ck_sender_accounts_provider_webhook_pair
          CHECK ((provider_webhook IS NULL) = (provider_webhook_provider IS NULL))`);
    await q.query(`CREATE INDEX idx_sender_accounts_id ON sender_accounts (id)`);
    // Immutable for the index: the database encoding never changes under it.
    await q.query(`
      CREATE FUNCTION herald_message_digest(delivery_key text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN left(encode(sha256(convert_to(delivery_key, 'UTF8')), 'hex'), 32)`);
    await q.query(
      `CREATE INDEX idx_deliveries_message_digest ON deliveries (tenant_id, herald_message_digest(delivery_key))`,
    );
    await this.setInteractionTypes(q, (types) => [...new Set([...types, 'complaint'])]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM interactions WHERE type = 'complaint'`);
    await this.setInteractionTypes(q, (types) => types.filter((t) => t !== 'complaint'));
    await q.query(`DROP INDEX idx_deliveries_message_digest`);
    await q.query(`DROP FUNCTION herald_message_digest(text)`);
    await q.query(`DROP INDEX idx_sender_accounts_id`);
    await q.query(`
      ALTER TABLE sender_accounts
        DROP CONSTRAINT ck_sender_accounts_provider_webhook_pair,
        DROP COLUMN provider_webhook,
        DROP COLUMN provider_webhook_provider,
        DROP COLUMN paused_reason,
        DROP COLUMN paused_at`);
  }

  /** Rewrites ck_interactions_type from the list it holds now, so other widenings survive. */
  private async setInteractionTypes(q: QueryRunner, change: (types: string[]) => string[]): Promise<void> {
    const [row] = (await q.query(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'ck_interactions_type'`,
    )) as { def: string }[];
    const current = [...(row?.def ?? '').matchAll(/'([a-z_]+)'::text/g)].map((m) => m[1]!);
    const next = change(current);
    if (next.some((t) => !/^[a-z_]+$/.test(t))) throw new Error('unexpected interaction type');
    await q.query(`ALTER TABLE interactions DROP CONSTRAINT ck_interactions_type`);
    await q.query(
      `ALTER TABLE interactions ADD CONSTRAINT ck_interactions_type CHECK (type IN (${next.map((t) => `'${t}'`).join(', ')}))`,
    );
  }
}
