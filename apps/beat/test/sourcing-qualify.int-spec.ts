import type { INestApplicationContext } from '@nestjs/common';
import { QUEUES, type JobEnvelope } from '@herald/queues';
import {
  MAX_QUALIFY_RECOVERIES,
  NOT_QUALIFIED,
  Qualifier,
  SourcingRunProgress,
  sourcingRunRecoveries,
} from '@herald/sourcing';
import { eventually, testRedisUrl } from '@herald/testing';
import { Worker, type Job } from 'bullmq';
import { DataSource } from 'typeorm';
import {
  QUALIFY_LIMIT as LIMIT,
  qualifyFixture,
  QUIET,
  startFakeWorld,
  startQualifyWorker as startWorker,
  type QualifyFixture,
} from '../../../test/support/qualify-fixture';

jest.setTimeout(120_000);

/**
 * The beat's `sourcing-qualify` duty on real Postgres and Redis: a run's candidates whose
 * `sourcing.qualify` job Redis lost are added again, those whose job BullMQ failed for good are
 * handed back, and after MAX_QUALIFY_RECOVERIES recoveries without moving on they are closed as
 * not qualified so the run completes; young candidates and live jobs are left alone; two beats
 * act once. The search runs in process (the real executor and writer), then the tests break its
 * qualify jobs before a real worker qualifies what the beat recovered.
 */
describe('sourcing candidates whose qualify job Redis lost or BullMQ failed for good', () => {
  let world: Awaited<ReturnType<typeof startFakeWorld>>;
  beforeAll(async () => {
    world = await startFakeWorld();
  });
  afterAll(async () => {
    await world?.stop();
  });

  const fixture = () => qualifyFixture(world.directory);

  async function recoveries(outcome: string): Promise<number> {
    const metric = await sourcingRunRecoveries().get();
    return metric.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  }

  describe('without a worker', () => {
    let fx: QualifyFixture;
    beforeAll(async () => {
      fx = await fixture();
    });
    afterAll(async () => {
      await fx?.api.close();
    });
    afterEach(() => fx.reset());

    it('adds a vanished job’s candidates again once they are quiet and no live or unrelayed job carries them', async () => {
      const { runId, jobs } = await fx.search();
      const [lost, kept] = [...jobs.keys()] as [string, string];
      expect(await fx.queue.remove(lost)).toBe(1);

      // Young: the finder just wrote them.
      expect(await fx.sweeper.sweep(QUIET)).toBe(0);
      expect(await fx.queue.getJob(lost)).toBeUndefined();

      // Quiet, but the job is still in the outbox (Redis was down when it was written): the relay's.
      await fx.backdate(runId);
      await fx.api.query(`UPDATE outbox SET dispatched_at = NULL WHERE job_id = $1`, [lost]);
      expect(await fx.sweeper.sweep(QUIET)).toBe(0);
      expect(await fx.queue.getJob(lost)).toBeUndefined();
      await fx.api.query(`UPDATE outbox SET dispatched_at = now() WHERE job_id = $1`, [lost]);

      const before = await recoveries('qualify_readded');
      expect(await fx.sweeper.sweep(QUIET)).toBe(1);
      // All 20 still open: the same batch, so the same job id, waiting again; the live one untouched.
      const readded = (await fx.queue.getJob(lost)) as Job<JobEnvelope<'sourcing.qualify'>>;
      expect(await readded.getState()).toBe('waiting');
      expect([...readded.data.payload.candidate_ids].sort()).toEqual(jobs.get(lost));
      expect(await fx.queue.getJobState(kept)).toBe('waiting');
      expect(await recoveries('qualify_readded')).toBe(before + 1);
      const rows = await fx.candidates(runId);
      for (const c of rows) {
        expect(c.stage).toBe('discovered');
        expect(c.qualify_recoveries).toBe(jobs.get(lost)!.includes(c.id) ? 1 : 0);
      }

      // Young again, then quiet with both jobs waiting: nothing more.
      expect(await fx.sweeper.sweep(QUIET)).toBe(0);
      await fx.backdate(runId);
      expect(await fx.sweeper.sweep(QUIET)).toBe(0);
      expect(await recoveries('qualify_readded')).toBe(before + 1);
      expect((await fx.run(runId)).status).toBe('running');

      // Cancelled, its jobs gone: its candidates are no active run's to finish.
      await fx.api.query(`UPDATE sourcing_runs SET status = 'cancelled' WHERE id = $1`, [runId]);
      await fx.queue.drain(true);
      await fx.backdate(runId);
      const left = await fx.candidates(runId);
      expect(await fx.sweeper.sweep(QUIET)).toBe(0);
      expect(await fx.candidates(runId)).toEqual(left);
    });

    it('adds candidates found before they recorded their job again once quiet, under a job of their own', async () => {
      const { runId, jobs } = await fx.search();
      const [old, kept] = [...jobs.keys()] as [string, string];
      // As a run that was qualifying when the column came: its candidates name no job, and
      // their job (here: lost) cannot be looked up by them.
      await fx.queue.remove(old);
      await fx.api.query(`UPDATE candidates SET qualify_job = NULL WHERE run_id = $1 AND qualify_job = $2`, [
        runId,
        old,
      ]);
      expect(await fx.sweeper.sweep(QUIET)).toBe(0);

      await fx.backdate(runId);
      const before = await recoveries('qualify_readded');
      expect(await fx.sweeper.sweep(QUIET)).toBe(1);
      expect(await recoveries('qualify_readded')).toBe(before + 1);
      const readded = (await fx.queue.getJob(old)) as Job<JobEnvelope<'sourcing.qualify'>>;
      expect(await readded.getState()).toBe('waiting');
      expect([...readded.data.payload.candidate_ids].sort()).toEqual(jobs.get(old));
      for (const c of await fx.candidates(runId)) {
        const wasOld = jobs.get(old)!.includes(c.id);
        expect([c.qualify_job, c.qualify_recoveries]).toEqual(wasOld ? [old, 1] : [kept, 0]);
      }
      // Recorded now: quiet again with their job waiting, nothing more.
      await fx.backdate(runId);
      expect(await fx.sweeper.sweep(QUIET)).toBe(0);
    });

    it('leaves alone quiet candidates whose job is active or delayed', async () => {
      const { runId, jobs } = await fx.search();
      const [held, delayed] = [...jobs.keys()] as [string, string];
      const holder = new Worker(QUEUES.sourcing, null, {
        connection: { url: testRedisUrl() },
        prefix: fx.prefix,
      });
      try {
        expect((await holder.getNextJob('t1'))?.id).toBe(held);
        // The other one backing off after a failed attempt, as a worker's retry puts it.
        const second = await holder.getNextJob('t2');
        expect(second.id).toBe(delayed);
        await second.moveToDelayed(Date.now() + 3_600_000, 't2');
        expect(await fx.queue.getJobState(held)).toBe('active');
        expect(await fx.queue.getJobState(delayed)).toBe('delayed');
        await fx.backdate(runId);
        const before = await fx.candidates(runId);

        expect(await fx.sweeper.sweep(QUIET)).toBe(0);
        expect(await fx.candidates(runId)).toEqual(before);
      } finally {
        await holder.close();
      }
    });

    it('hands back a job that failed for good with its attempts reset, and closes candidates still stuck after MAX_QUALIFY_RECOVERIES', async () => {
      const { runId, jobs } = await fx.search();
      const ids = [...jobs.keys()];
      const [retried, failed] = [await recoveries('qualify_retried'), await recoveries('qualify_failed')];
      for (let round = 1; round <= MAX_QUALIFY_RECOVERIES; round += 1) {
        await fx.failForGood(ids);
        await fx.backdate(runId);
        expect(await fx.sweeper.sweep(QUIET)).toBe(2);
        for (const id of ids) {
          const job = (await fx.queue.getJob(id)) as Job;
          expect(await job.getState()).toBe('waiting');
          // A hand-back gives the job its whole backoff again (about 17 minutes), not one last try.
          expect(job.attemptsMade).toBe(0);
        }
        expect((await fx.candidates(runId)).map((c) => c.qualify_recoveries)).toEqual(
          Array(LIMIT).fill(round),
        );
        expect((await fx.run(runId)).status).toBe('running');
      }
      expect(await recoveries('qualify_retried')).toBe(retried + 2 * MAX_QUALIFY_RECOVERIES);

      await fx.failForGood(ids);
      await fx.backdate(runId);
      expect(await fx.sweeper.sweep(QUIET)).toBe(2);
      expect(await recoveries('qualify_failed')).toBe(failed + 2);
      const rows = await fx.candidates(runId);
      for (const c of rows) {
        expect(c.stage).toBe('rejected');
        expect(c.reason).toBe(
          `${NOT_QUALIFIED} its qualify job failed for good: database unreachable (recovered 3 times by the beat without moving on)`,
        );
      }
      const run = await fx.run(runId);
      expect(run.status).toBe('completed');
      expect(await fx.stages(runId)).toEqual({ rejected: LIMIT });
      expect(run.reason).toBe(
        `limit reached; ${LIMIT} candidates not qualified (their qualify job kept failing or was lost; each one's reason says why)`,
      );
      // Nothing is handed back again, and the spent jobs stay failed for a person to read.
      expect(await fx.sweeper.sweep(QUIET)).toBe(0);
      for (const id of ids) expect(await fx.queue.getJobState(id)).toBe('failed');
    });

    it('two beats sweeping at once recover each job once', async () => {
      const { tenantId, runId, jobs } = await fx.search();
      const [lost, spent] = [...jobs.keys()] as [string, string];
      await fx.queue.remove(lost);
      await fx.failForGood([spent]);
      await fx.backdate(runId);
      const [readded, retried] = [await recoveries('qualify_readded'), await recoveries('qualify_retried')];

      const [a, b] = await Promise.all([fx.sweeper.sweep(QUIET), fx.otherBeat().sweep(QUIET)]);
      expect(a + b).toBe(2);
      expect((await fx.queue.getWaiting(0, -1)).map((j) => j.id).sort()).toEqual([lost, spent].sort());
      expect(await recoveries('qualify_readded')).toBe(readded + 1);
      expect(await recoveries('qualify_retried')).toBe(retried + 1);
      expect(new Set((await fx.candidates(runId)).map((c) => c.qualify_recoveries))).toEqual(new Set([1]));
      // And again, quiet once more: their jobs are there.
      await fx.backdate(runId);
      expect(await Promise.all([fx.sweeper.sweep(QUIET), fx.otherBeat().sweep(QUIET)])).toEqual([0, 0]);

      // Both past their look without the lock at the same moment: under the run's lock one acts.
      await fx.queue.remove(lost);
      await fx.backdate(runId);
      const group = { tenant_id: tenantId, run_id: runId, qualify_job: lost };
      const acted = await Promise.all([
        fx.sweeper.recover(fx.queue, group, QUIET.quietMs),
        fx.otherBeat().recover(fx.queue, group, QUIET.quietMs),
      ]);
      expect(acted.filter((outcomes) => outcomes.length > 0)).toEqual([['qualify_readded']]);
      expect((await fx.queue.getWaiting(0, -1)).filter((j) => j.id === lost)).toHaveLength(1);
    });

    it('held candidates do not keep the run open', async () => {
      const { tenantId, runId } = await fx.search();
      await fx.api.query(
        `UPDATE candidates SET stage = 'scored', tier = 'C', score = 10, held = true WHERE run_id = $1`,
        [runId],
      );
      const dataSource = fx.api.app.get(DataSource);
      expect(await SourcingRunProgress.touch(dataSource.manager, tenantId, runId)).toBe('completed');
      expect((await fx.run(runId)).reason).toBe('limit reached');
    });
  });

  describe('with a real worker', () => {
    let fx: QualifyFixture;
    let worker: INestApplicationContext | undefined;
    beforeAll(async () => {
      fx = await fixture();
    });
    afterEach(async () => {
      await worker?.close();
      worker = undefined;
    });
    afterAll(async () => {
      await fx?.api.close();
    });

    it('a batch whose job vanished is added again and the run completes, each candidate handed off once', async () => {
      const { tenantId, runId, jobs } = await fx.search();
      const [partly, whole] = [...jobs.keys()] as [string, string];
      // Five of the first batch went all the way before its job vanished: they are not redone.
      const early = jobs.get(partly)!.slice(0, 5);
      await fx.api.app.get(Qualifier).qualifyBatch(tenantId, runId, early);
      const earlyBefore = (await fx.candidates(runId)).filter((c) => early.includes(c.id));
      expect(earlyBefore.map((c) => c.stage)).toEqual(Array(5).fill('handed_off'));
      for (const id of [partly, whole]) expect(await fx.queue.remove(id)).toBe(1);
      await fx.backdate(runId);

      expect(await fx.sweeper.sweep(QUIET)).toBe(2);
      // The open fifteen under a job of their own; the untouched batch under its old id.
      const open = jobs.get(partly)!.filter((id) => !early.includes(id));
      const rows = await fx.candidates(runId);
      const newJob = rows.find((c) => c.id === open[0])!.qualify_job!;
      expect(newJob).not.toBe(partly);
      const readded = (await fx.queue.getJob(newJob)) as Job<JobEnvelope<'sourcing.qualify'>>;
      expect([...readded.data.payload.candidate_ids].sort()).toEqual(open);
      expect(await fx.queue.getJobState(whole)).toBe('waiting');
      expect(await fx.queue.getJob(partly)).toBeUndefined();

      worker = await startWorker(fx);
      const done = await fx.completesHandedOff(tenantId, runId);
      // Moving on restarted their count; the early five were not touched again.
      expect(done.every((c) => c.qualify_recoveries === 0)).toBe(true);
      expect(done.filter((c) => early.includes(c.id))).toEqual(earlyBefore);
      expect(await fx.sweeper.sweep(QUIET)).toBe(0);
    });

    it('a batch that failed for good is handed back and the run completes, each candidate handed off once', async () => {
      const { tenantId, runId, jobs } = await fx.search();
      const ids = [...jobs.keys()];
      await fx.failForGood(ids);
      await fx.backdate(runId);

      expect(await fx.sweeper.sweep(QUIET)).toBe(2);
      worker = await startWorker(fx);
      await fx.completesHandedOff(tenantId, runId);
      // The run completes inside the last job's transaction; BullMQ marks the job done just after.
      for (const id of ids)
        await eventually(async () => (await fx.queue.getJobState(id)) === 'completed', {
          what: `${id} completed`,
        });
      expect((await fx.run(runId)).reason).toBe('limit reached');
    });

    it('candidates scored but not handed off keep the run open; their failed job is handed back and the worker hands them off', async () => {
      const { tenantId, runId, jobs } = await fx.search();
      // Every hand-off fails (as a contacts write would with the database refusing it): each
      // batch scores its candidates, then fails on their hand-offs.
      await fx.api.query(`CREATE FUNCTION test_refuse_contacts() RETURNS trigger LANGUAGE plpgsql AS $$
                            BEGIN RAISE EXCEPTION 'contacts refused by the test'; END $$`);
      await fx.api.query(
        `CREATE TRIGGER test_refuse_contacts BEFORE INSERT ON contacts FOR EACH ROW EXECUTE FUNCTION test_refuse_contacts()`,
      );
      try {
        for (const ids of jobs.values())
          await expect(fx.api.app.get(Qualifier).qualifyBatch(tenantId, runId, ids)).rejects.toThrow(
            'contacts refused by the test',
          );
      } finally {
        await fx.api.query(`DROP TRIGGER test_refuse_contacts ON contacts`);
        await fx.api.query(`DROP FUNCTION test_refuse_contacts()`);
      }
      const rows = await fx.candidates(runId);
      expect(rows.map((c) => [c.stage, c.held, c.contact_id])).toEqual(
        Array(LIMIT).fill(['scored', false, null]),
      );
      // Their hand-off is still to come: the run is not complete (a batch finishing meanwhile touches it).
      const dataSource = fx.api.app.get(DataSource);
      expect(await SourcingRunProgress.touch(dataSource.manager, tenantId, runId)).toBe('open');
      expect((await fx.run(runId)).status).toBe('running');

      const ids = [...jobs.keys()];
      await fx.failForGood(ids);
      await fx.backdate(runId);
      expect(await fx.sweeper.sweep(QUIET)).toBe(2);
      for (const id of ids) expect(await fx.queue.getJobState(id)).toBe('waiting');
      worker = await startWorker(fx);
      const done = await fx.completesHandedOff(tenantId, runId);
      expect(done.every((c) => c.qualify_recoveries === 1)).toBe(true);
      expect((await fx.run(runId)).reason).toBe('limit reached');
    });
  });
});
