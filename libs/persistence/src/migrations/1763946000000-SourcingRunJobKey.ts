import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A sourcing run remembers which BullMQ job drives it (`job_key`: `srun-<run>` or, after a
 * resume, `srun-<run>-resume-<ms>`) and how often the beat handed that job back after BullMQ
 * failed it (`handbacks`, reset when the run progresses or is resumed). The beat's sweep acts on
 * a failed job only when it is the run's current one: a job spent before a resume is removed,
 * never allowed to retry or fail the resumed run.
 */
export class SourcingRunJobKey1763946000000 implements MigrationInterface {
  name = 'SourcingRunJobKey1763946000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE sourcing_runs ADD COLUMN job_key text, ADD COLUMN handbacks integer NOT NULL DEFAULT 0`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sourcing_runs DROP COLUMN job_key, DROP COLUMN handbacks`);
  }
}
