import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A candidate remembers the `sourcing.qualify` job that carries it (`qualify_job`, the BullMQ
 * job id the finder wrote through the outbox) and how often the beat recovered that job for it
 * without the candidate moving on (`qualify_recoveries`: a failed job handed back, a lost one
 * added again; reset when the candidate advances a stage). The beat's `sourcing-qualify` duty
 * finds open candidates whose job is neither live nor still in the outbox by the former, and
 * closes them (rejected, "not qualified: …") once the latter reaches its bound. Candidates
 * written before this column are not looked at.
 */
export class CandidateQualifyJob1763948000000 implements MigrationInterface {
  name = 'CandidateQualifyJob1763948000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE candidates ADD COLUMN qualify_job text, ADD COLUMN qualify_recoveries integer NOT NULL DEFAULT 0`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE candidates DROP COLUMN qualify_job, DROP COLUMN qualify_recoveries`);
  }
}
