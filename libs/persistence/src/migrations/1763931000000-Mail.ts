import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Email as recipients expect it: the tenant's HTML layout (every email's frame, with a
 * `{{{content}}}` slot; null: Herald's default) and each campaign's tracking choice (opens,
 * clicks; off unless the campaign turns it on).
 */
export class Mail1763931000000 implements MigrationInterface {
  name = 'Mail1763931000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE tenants ADD COLUMN email_layout text
         CONSTRAINT tenants_email_layout_size CHECK (char_length(email_layout) <= 200000)`,
    );
    await q.query(
      `ALTER TABLE campaigns ADD COLUMN tracking jsonb NOT NULL DEFAULT '{"opens": false, "clicks": false}'
         CONSTRAINT campaigns_tracking_shape CHECK (jsonb_typeof(tracking -> 'opens') = 'boolean' AND jsonb_typeof(tracking -> 'clicks') = 'boolean')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE campaigns DROP COLUMN tracking`);
    await q.query(`ALTER TABLE tenants DROP COLUMN email_layout`);
  }
}
