import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Scheduled runs remember the slot they fire for. A birthday run selects the contacts whose
 * birthday it is at that instant (in each contact's zone), so a retried or late fan-out greets
 * the same people, and a catch-up fire after an outage greets the day it was due for.
 */
export class Schedules1763870000000 implements MigrationInterface {
  name = 'Schedules1763870000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE campaign_runs ADD COLUMN slot_at timestamptz(3)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE campaign_runs DROP COLUMN slot_at`);
  }
}
