import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a crash leaves behind (promise 2):
 * - `unknown`: a send whose attempt died between the provider call and its record, on a channel
 *   whose receiver does not drop a repeat (SMTP). It is not sent again until an operator resends
 *   or closes it; the partial index lists them for the operator and the alert.
 * - `claim_token`: the attempt that holds a `sending` row. A claim retried after a lost reply
 *   finds its own rows again (same token), and a late release or failure of an old attempt
 *   cannot touch a newer attempt's row.
 * - `sender_accounts.delivery_guarantee`: `at_least_once` resends an unknown outcome with the
 *   same key; `at_most_once` holds it as `unknown`. Null: the channel's default (at-least-once
 *   where the receiver dedupes by key).
 */
export class DeliveryOutcomes1763900000000 implements MigrationInterface {
  name = 'DeliveryOutcomes1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deliveries DROP CONSTRAINT ck_deliveries_status`);
    await q.query(
      `ALTER TABLE deliveries ADD CONSTRAINT ck_deliveries_status
         CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'deferred', 'cancelled', 'unknown'))`,
    );
    await q.query(`ALTER TABLE deliveries ADD COLUMN claim_token uuid`);
    await q.query(
      `CREATE INDEX idx_deliveries_unknown ON deliveries (tenant_id, created_at, id) WHERE status = 'unknown'`,
    );
    await q.query(
      `ALTER TABLE sender_accounts ADD COLUMN delivery_guarantee text
         CONSTRAINT ck_sender_accounts_delivery_guarantee CHECK (delivery_guarantee IN ('at_most_once', 'at_least_once'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sender_accounts DROP COLUMN delivery_guarantee`);
    await q.query(`DROP INDEX idx_deliveries_unknown`);
    await q.query(`ALTER TABLE deliveries DROP COLUMN claim_token`);
    // The old schema has no `unknown`: failing them keeps them from being sent again.
    await q.query(
      `UPDATE deliveries SET status = 'failed', last_error = 'outcome unknown (held for an operator when the migration was reverted)'
        WHERE status = 'unknown'`,
    );
    await q.query(`ALTER TABLE deliveries DROP CONSTRAINT ck_deliveries_status`);
    await q.query(
      `ALTER TABLE deliveries ADD CONSTRAINT ck_deliveries_status
         CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'deferred', 'cancelled'))`,
    );
  }
}
