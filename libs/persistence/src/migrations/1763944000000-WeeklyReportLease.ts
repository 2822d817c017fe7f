import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When a weekly report was last claimed for sending. A beat that dies between the claim and
 * the outcome leaves the row `pending`; once the claim is older than the lease, the next tick
 * takes it again (an attempt like any other). Rows claimed before this column fall back to
 * their creation time.
 */
export class WeeklyReportLease1763944000000 implements MigrationInterface {
  name = 'WeeklyReportLease1763944000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE weekly_reports ADD COLUMN claimed_at timestamptz(3)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE weekly_reports DROP COLUMN claimed_at`);
  }
}
