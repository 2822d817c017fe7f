import type { INestApplicationContext } from '@nestjs/common';
import { JobProducer, QUEUES, type JobEnvelope } from '@herald/queues';
import {
  SourcingLostRunJobs,
  SourcingRunReconciler,
  STALLED_REASON,
  sourcingRunRecoveries,
} from '@herald/sourcing';
import { HeraldLogger } from '@herald/telemetry';
import { eventually, FakeDirectory, FakeSites, testRedisUrl } from '@herald/testing';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { DataSource } from 'typeorm';
import { TestApi } from '../../../test/support/api-app';
import {
  QUALIFY_OUTBOUND as OUTBOUND,
  sourcingQueue,
  startSourcingWorker,
} from '../../../test/support/qualify-fixture';
import { directorySourcing } from '../../../test/support/sourcing-fixture';

jest.setTimeout(120_000);

const API_KEY = 'stranded-directory-key';

type Run = { id: string; status: string; error: string | null; discovered: number };

/**
 * The beat's `sourcing-runs` duty on real Postgres and Redis: a run whose `sourcing.run` job
 * BullMQ failed for good is handed back (a crasher) or failed with the job's reason (out of
 * attempts); a spent job of a run that is no longer active, or that a resume replaced, is removed
 * and the run left alone; two beats at once act once. And its `sourcing-lost-jobs` duty: an
 * active run whose job Redis lost is given it again, once, after a quiet period.
 */
describe('sourcing runs whose job BullMQ failed for good, or Redis lost', () => {
  let sites: FakeSites;
  let directory: FakeDirectory;

  beforeAll(async () => {
    sites = await FakeSites.start();
    directory = await FakeDirectory.start({
      seed: 5,
      count: 600,
      apiKey: API_KEY,
      sitesPort: sites.httpPort,
    });
  });
  afterAll(async () => {
    await directory?.stop();
    await sites?.stop();
  });

  /** One api (its own database and queue prefix), a tenant with a directory account and a scoring model. */
  async function fixture(limit: number) {
    const api = await TestApi.start(OUTBOUND);
    const tenant = await api.createTenant('Stranded');
    const call = async <T>(method: string, path: string, body?: unknown) =>
      api.request<T>(method, path, { key: tenant.key, body });
    const { accountId, modelId } = await directorySourcing(call, { directory, pageSize: 20 });
    const { queue, prefix, redis } = sourcingQueue(api);
    /** The in-process workers a test started on this fixture's queue. */
    const workers: INestApplicationContext[] = [];
    return {
      api,
      workers,
      /** Closes the workers, then the api. */
      async close(): Promise<void> {
        await Promise.all(workers.map((w) => w.close()));
        await api.close();
      },
      tenant,
      queue,
      prefix,
      redis,
      reconciler: api.app.get(SourcingRunReconciler),
      /** Another beat's reconciler (its own scan cursor) on the same database and Redis. */
      otherBeat: () =>
        new SourcingRunReconciler(
          api.app.get(DataSource),
          api.app.get(JobProducer),
          redis,
          api.app.get(HeraldLogger),
        ),
      lostJobs: api.app.get(SourcingLostRunJobs),
      /** Another beat's lost-job sweep (its own page cursor) on the same database and Redis. */
      otherLostBeat: () =>
        new SourcingLostRunJobs(api.app.get(DataSource), api.app.get(JobProducer), api.app.get(HeraldLogger)),
      call,
      /** The run has not moved for an hour: past any quiet period the tests sweep with. */
      backdate: (id: string) =>
        api.query(`UPDATE sourcing_runs SET updated_at = now() - interval '1 hour' WHERE id = $1`, [id]),
      row: async (id: string) =>
        (
          await api.query<{ job_key: string; reason: string | null; updated_at: Date }>(
            'SELECT job_key, reason, updated_at FROM sourcing_runs WHERE id = $1',
            [id],
          )
        )[0]!,
      /** Starts a run of a new sourcing job (row and job through the outbox) and waits for its BullMQ job. */
      async start(): Promise<{ runId: string; job: Job }> {
        const next = await call<{ id: string }>('POST', '/v1/sourcing-jobs', {
          name: 'Bakeries',
          source_account_id: accountId,
          criteria: { category: 'bakery' },
          limit,
          scoring_model_id: modelId,
        });
        expect(next.status).toBe(201);
        const run = await call<{ id: string }>('POST', `/v1/sourcing-jobs/${next.body.id}/runs`, {});
        expect(run.status).toBe(202);
        const found = await eventually(() => queue.getJob(`srun-${run.body.id}`), { what: 'run job' });
        return { runId: run.body.id, job: found };
      },
      run: async (id: string) => (await call<Run>('GET', `/v1/sourcing-runs/${id}`)).body,
      handbacks: async (id: string) =>
        (
          await api.query<{ handbacks: number }>('SELECT handbacks FROM sourcing_runs WHERE id = $1', [id])
        )[0]!.handbacks,
      /** The run completes with `limit` candidates, each found once. */
      async completesWithEachOnce(id: string): Promise<void> {
        const done = await eventually(
          async () => {
            const r = (await call<Run>('GET', `/v1/sourcing-runs/${id}`)).body;
            return r.status === 'completed' || r.status === 'failed' ? r : undefined;
          },
          { what: 'run finished', timeoutMs: 90_000, intervalMs: 200 },
        );
        expect(done).toMatchObject({ status: 'completed', discovered: limit });
        const rows = await api.query<{ n: string }>(
          `SELECT count(*) AS n FROM candidates WHERE run_id = $1 GROUP BY source_key`,
          [id],
        );
        expect(rows).toHaveLength(limit);
        expect(rows.every((r) => r.n === '1')).toBe(true);
      },
    };
  }

  /**
   * Takes the queue's next job as a worker would and fails it: `stalled` as BullMQ fails a
   * crasher (UnrecoverableError with its reason), else a plain error on its last attempt.
   */
  async function failNext(fx: Awaited<ReturnType<typeof fixture>>, jobId: string, how: 'stalled' | 'error') {
    if (how === 'error') await fx.redis.hset(`${fx.prefix}:${QUEUES.sourcing}:${jobId}`, 'atm', 19);
    const worker = new Worker(QUEUES.sourcing, null, {
      connection: { url: testRedisUrl() },
      prefix: fx.prefix,
    });
    try {
      const job = await worker.getNextJob('t1');
      expect(job.id).toBe(jobId);
      await job.moveToFailed(
        how === 'stalled' ? new UnrecoverableError(STALLED_REASON) : new Error('database unreachable'),
        't1',
      );
      expect(await fx.queue.getJobState(jobId)).toBe('failed');
    } finally {
      await worker.close();
    }
  }

  /** A worker consuming the fixture's `sourcing` queue, its locks short so a stall shows fast; the fixture closes it. */
  async function startWorker(fx: Awaited<ReturnType<typeof fixture>>): Promise<void> {
    fx.workers.push(
      await startSourcingWorker(fx.api, {
        QUEUE_LOCK_DURATION_MS: '1000',
        QUEUE_STALLED_INTERVAL_MS: '1000',
      }),
    );
  }

  async function recoveries(outcome: string): Promise<number> {
    const metric = await sourcingRunRecoveries().get();
    return metric.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  }

  describe('without a worker', () => {
    let fx: Awaited<ReturnType<typeof fixture>>;
    beforeAll(async () => {
      fx = await fixture(40);
    });
    afterAll(() => fx?.close());
    // Each test's jobs are its own: nothing it left waiting is taken by the next one.
    afterEach(async () => {
      await fx.queue.drain(true);
      await fx.queue.clean(0, 1000, 'failed');
    });

    it('fails a run whose job ran out of attempts, with the job’s reason, and removes the job', async () => {
      const { runId, job } = await fx.start();
      await failNext(fx, job.id!, 'error');
      const before = await recoveries('failed');

      expect(await fx.reconciler.sweep()).toBe(1);
      const run = await fx.run(runId);
      expect(run.status).toBe('failed');
      expect(run.error).toContain('database unreachable');
      expect(run.error).toContain('resume the run');
      expect(await fx.queue.getJob(job.id!)).toBeUndefined();
      expect(await recoveries('failed')).toBe(before + 1);
      expect(await fx.reconciler.sweep()).toBe(0);

      // A resume adds a job of its own that nothing fails again.
      expect((await fx.call('POST', `/v1/sourcing-runs/${runId}/resume`)).status).toBe(200);
      expect((await fx.run(runId)).status).toBe('running');
      const [row] = await fx.api.query<{ job_key: string }>(
        `SELECT job_key FROM sourcing_runs WHERE id = $1`,
        [runId],
      );
      expect(row!.job_key).toMatch(new RegExp(`^srun-${runId}-resume-\\d+$`));
      expect(await fx.queue.getJobState(row!.job_key)).toBe('waiting');
      expect(await fx.reconciler.sweep()).toBe(0);
      expect((await fx.run(runId)).status).toBe('running');
    });

    it('leaves a completed or cancelled run alone and removes its spent job', async () => {
      const cancelled = await fx.start();
      await failNext(fx, cancelled.job.id!, 'stalled');
      const completed = await fx.start();
      await failNext(fx, completed.job.id!, 'error');
      expect((await fx.call('POST', `/v1/sourcing-runs/${cancelled.runId}/cancel`)).status).toBe(200);
      await fx.api.query(`UPDATE sourcing_runs SET status = 'completed', finished_at = now() WHERE id = $1`, [
        completed.runId,
      ]);

      expect(await fx.reconciler.sweep()).toBe(2);
      expect((await fx.run(cancelled.runId)).status).toBe('cancelled');
      expect((await fx.run(completed.runId)).status).toBe('completed');
      expect(await fx.queue.getJob(cancelled.job.id!)).toBeUndefined();
      expect(await fx.queue.getJob(completed.job.id!)).toBeUndefined();
      expect(await fx.handbacks(cancelled.runId)).toBe(0);
    });

    it('removes a job that a pause and resume replaced, without touching the resumed run', async () => {
      const { runId, job } = await fx.start();
      await failNext(fx, job.id!, 'error');
      // Paused and resumed before the beat came by: the resume's job drives the run now.
      expect((await fx.call('POST', `/v1/sourcing-runs/${runId}/pause`)).status).toBe(200);
      expect((await fx.call('POST', `/v1/sourcing-runs/${runId}/resume`)).status).toBe(200);

      expect(await fx.reconciler.sweep()).toBe(1);
      expect(await fx.queue.getJob(job.id!)).toBeUndefined();
      const run = await fx.run(runId);
      expect(run.status).toBe('running');
      expect(run.error).toBeNull();
      const [row] = await fx.api.query<{ job_key: string }>(
        `SELECT job_key FROM sourcing_runs WHERE id = $1`,
        [runId],
      );
      expect(await fx.queue.getJobState(row!.job_key)).toBe('waiting');
    });

    it('two beats sweeping at once settle each job once', async () => {
      const crashers = [await fx.start(), await fx.start()];
      for (const c of crashers) await failNext(fx, c.job.id!, 'stalled');
      const spent = await fx.start();
      await failNext(fx, spent.job.id!, 'error');
      const [retried, failed] = [await recoveries('retried'), await recoveries('failed')];

      const [a, b] = await Promise.all([fx.reconciler.sweep(), fx.otherBeat().sweep()]);
      expect(a + b).toBe(3);
      for (const c of crashers) {
        expect(await fx.queue.getJobState(c.job.id!)).toBe('waiting');
        expect(await fx.handbacks(c.runId)).toBe(1);
        expect((await fx.run(c.runId)).status).toBe('queued');
      }
      expect((await fx.run(spent.runId)).status).toBe('failed');
      expect(await recoveries('retried')).toBe(retried + 2);
      expect(await recoveries('failed')).toBe(failed + 1);
      // And again: nothing left to settle.
      expect(await Promise.all([fx.reconciler.sweep(), fx.otherBeat().sweep()])).toEqual([0, 0]);
    });

    it('fails a run whose job keeps crashing its worker after MAX_HANDBACKS hand-backs', async () => {
      const { runId, job } = await fx.start();
      for (let handedBack = 0; handedBack < 3; handedBack += 1) {
        await failNext(fx, job.id!, 'stalled');
        expect(await fx.reconciler.sweep()).toBe(1);
        expect(await fx.queue.getJobState(job.id!)).toBe('waiting');
      }
      await failNext(fx, job.id!, 'stalled');
      expect(await fx.reconciler.sweep()).toBe(1);
      const run = await fx.run(runId);
      expect(run.status).toBe('failed');
      expect(run.error).toContain(STALLED_REASON);
      expect(run.error).toContain('handed back 3 times');
      expect(await fx.queue.getJob(job.id!)).toBeUndefined();
    });
  });

  describe('with a real worker', () => {
    let fx: Awaited<ReturnType<typeof fixture>>;
    beforeAll(async () => {
      fx = await fixture(60);
    });
    afterAll(() => fx?.close());

    it('a crasher job is handed back and its run completes, every candidate once', async () => {
      const { runId, job } = await fx.start();
      // A worker dies holding the job after BullMQ already counted it stalled 3 times (maxStalledCount).
      await fx.redis.hset(`${fx.prefix}:${QUEUES.sourcing}:${job.id!}`, 'stc', 3);
      const dying = new Worker(QUEUES.sourcing, null, {
        connection: { url: testRedisUrl() },
        prefix: fx.prefix,
        lockDuration: 1000,
      });
      expect((await dying.getNextJob('dead'))?.id).toBe(job.id);
      await dying.close();

      await startWorker(fx);
      // The worker finds the job stalled a 4th time: BullMQ fails it as a crasher.
      const failed = await eventually(
        async () =>
          (await fx.queue.getJobState(job.id!)) === 'failed' ? fx.queue.getJob(job.id!) : undefined,
        { what: 'job failed as a crasher', timeoutMs: 30_000 },
      );
      expect(failed.failedReason).toBe(STALLED_REASON);
      expect((await fx.run(runId)).status).toMatch(/^(queued|running)$/);

      expect(await fx.reconciler.sweep()).toBe(1);
      await fx.completesWithEachOnce(runId);
      // It moved on after the hand-back: a later crash would start the count again.
      expect(await fx.handbacks(runId)).toBe(0);
      expect(await fx.queue.getJobState(job.id!)).toBe('completed');
    });
  });
  /** The quiet period the lost-job sweeps run with: a backdated run is past it, a fresh one is not. */
  const QUIET = { quietMs: 60_000 };

  describe('lost from Redis, without a worker', () => {
    let fx: Awaited<ReturnType<typeof fixture>>;
    beforeAll(async () => {
      fx = await fixture(40);
    });
    afterAll(() => fx?.close());
    // Each test's runs and jobs are its own: a run it left active with its job drained would be lost to the next.
    afterEach(async () => {
      await fx.api.query(
        `UPDATE sourcing_runs SET status = 'cancelled' WHERE status IN ('queued', 'running')`,
      );
      await fx.queue.drain(true);
      await fx.queue.clean(0, 1000, 'failed');
      await fx.queue.clean(0, 1000, 'completed');
    });

    const runJob = async (id: string) => (await fx.queue.getJob(id)) as Job<JobEnvelope<'sourcing.run'>>;

    /** Ids of the queue's waiting jobs, as often as they are listed. */
    async function waitingIds(): Promise<string[]> {
      return (await fx.queue.getWaiting(0, -1)).map((j) => j.id!);
    }

    it('adds a vanished job again under its id, once, and says so on the run', async () => {
      const { runId, job } = await fx.start();
      // Redis lost it (restart without persistence, FLUSHDB, eviction, an operator).
      expect(await fx.queue.remove(job.id!)).toBe(1);
      await fx.backdate(runId);
      const before = await recoveries('readded');

      expect(await fx.lostJobs.sweep(QUIET)).toBe(1);
      expect(await fx.queue.getJobState(job.id!)).toBe('waiting');
      const readded = await runJob(job.id!);
      expect(readded.name).toBe('sourcing.run');
      expect(readded.data.payload).toEqual({ tenant_id: fx.tenant.id, run_id: runId });
      expect(await recoveries('readded')).toBe(before + 1);
      const row = await fx.row(runId);
      expect(row.job_key).toBe(job.id);
      expect(row.reason).toBe('its job was lost from the queue; added again');
      expect((await fx.run(runId)).status).toBe('queued');

      // Young again and its job there: nothing more, now or once it is quiet again.
      expect(await fx.lostJobs.sweep(QUIET)).toBe(0);
      await fx.backdate(runId);
      expect(await fx.lostJobs.sweep(QUIET)).toBe(0);
      expect((await waitingIds()).filter((id) => id === job.id)).toHaveLength(1);
      expect(await recoveries('readded')).toBe(before + 1);
    });

    it('adds a resumed run’s job again under its resume id, not the job the resume replaced', async () => {
      const { runId, job } = await fx.start();
      expect((await fx.call('POST', `/v1/sourcing-runs/${runId}/pause`)).status).toBe(200);
      expect((await fx.call('POST', `/v1/sourcing-runs/${runId}/resume`)).status).toBe(200);
      const { job_key: resumeKey } = await fx.row(runId);
      const resume = Number(/-resume-(\d+)$/.exec(resumeKey)?.[1]);
      expect(resume).toBeGreaterThan(0);
      await eventually(() => fx.queue.getJob(resumeKey), { what: 'resume job' });
      for (const id of [job.id!, resumeKey]) expect(await fx.queue.remove(id)).toBe(1);
      await fx.backdate(runId);

      expect(await fx.lostJobs.sweep(QUIET)).toBe(1);
      expect(await waitingIds()).toEqual([resumeKey]);
      expect((await runJob(resumeKey)).data.payload).toEqual({
        tenant_id: fx.tenant.id,
        run_id: runId,
        resume,
      });
      expect(await fx.queue.getJob(job.id!)).toBeUndefined();
    });

    it('leaves alone a run whose job is still there, and one that needs no job', async () => {
      // Active: a worker holds it.
      const active = await fx.start();
      const holder = new Worker(QUEUES.sourcing, null, {
        connection: { url: testRedisUrl() },
        prefix: fx.prefix,
      });
      try {
        expect((await holder.getNextJob('t1'))?.id).toBe(active.job.id);
        // Failed for good: the failed-job sweep's, not this one's.
        const failed = await fx.start();
        await failNext(fx, failed.job.id!, 'error');
        const waiting = await fx.start();
        // Paused, and a run whose search is over (its qualify jobs finish it): no job needed.
        const paused = await fx.start();
        expect((await fx.call('POST', `/v1/sourcing-runs/${paused.runId}/pause`)).status).toBe(200);
        const searched = await fx.start();
        await fx.api.query(`UPDATE sourcing_runs SET status = 'running', exhausted = true WHERE id = $1`, [
          searched.runId,
        ]);
        for (const gone of [paused, searched]) await fx.queue.remove(gone.job.id!);
        const runs = [active, waiting, failed, paused, searched];
        for (const r of runs) await fx.backdate(r.runId);
        const before = await Promise.all(runs.map((r) => fx.row(r.runId)));
        const readded = await recoveries('readded');

        expect(await fx.lostJobs.sweep(QUIET)).toBe(0);
        expect(await fx.queue.getJobState(active.job.id!)).toBe('active');
        expect(await fx.queue.getJobState(waiting.job.id!)).toBe('waiting');
        expect(await fx.queue.getJobState(failed.job.id!)).toBe('failed');
        expect(await fx.queue.getJob(paused.job.id!)).toBeUndefined();
        expect(await fx.queue.getJob(searched.job.id!)).toBeUndefined();
        expect(await Promise.all(runs.map((r) => fx.row(r.runId)))).toEqual(before);
        expect(await recoveries('readded')).toBe(readded);
      } finally {
        await holder.close();
      }
    });

    it('leaves a young run alone until it has been quiet for the quiet period', async () => {
      const { runId, job } = await fx.start();
      await fx.queue.remove(job.id!);

      // Just started or resumed: its job may still be on its way (the outbox relay's turn).
      expect(await fx.lostJobs.sweep(QUIET)).toBe(0);
      expect(await fx.queue.getJob(job.id!)).toBeUndefined();
      expect((await fx.row(runId)).reason).toBeNull();

      await fx.backdate(runId);
      expect(await fx.lostJobs.sweep(QUIET)).toBe(1);
      expect(await fx.queue.getJobState(job.id!)).toBe('waiting');
    });

    it('replaces a job that completed before its run’s search was over (its limit raised while qualifying)', async () => {
      const { runId, job } = await fx.start();
      const worker = new Worker(QUEUES.sourcing, null, {
        connection: { url: testRedisUrl() },
        prefix: fx.prefix,
      });
      try {
        const taken = await worker.getNextJob('t1');
        expect(taken.id).toBe(job.id);
        await taken.moveToCompleted('done: qualifying', 't1', false);
      } finally {
        await worker.close();
      }
      expect(await fx.queue.getJobState(job.id!)).toBe('completed');
      await fx.api.query(`UPDATE sourcing_runs SET status = 'running' WHERE id = $1`, [runId]);
      await fx.backdate(runId);

      expect(await fx.lostJobs.sweep(QUIET)).toBe(1);
      expect(await fx.queue.getJobState(job.id!)).toBe('waiting');
      expect((await fx.row(runId)).reason).toBe(
        'its job had completed before its search was over; added again',
      );
    });

    it('two beats sweeping at once add each lost job once', async () => {
      const lost = [await fx.start(), await fx.start(), await fx.start()];
      for (const l of lost) {
        await fx.queue.remove(l.job.id!);
        await fx.backdate(l.runId);
      }
      const before = await recoveries('readded');

      const [a, b] = await Promise.all([fx.lostJobs.sweep(QUIET), fx.otherLostBeat().sweep(QUIET)]);
      expect(a + b).toBe(3);
      expect((await waitingIds()).sort()).toEqual(lost.map((l) => l.job.id!).sort());
      expect(await recoveries('readded')).toBe(before + 3);
      // And again, the runs quiet once more: their jobs are there.
      for (const l of lost) await fx.backdate(l.runId);
      expect(await Promise.all([fx.lostJobs.sweep(QUIET), fx.otherLostBeat().sweep(QUIET)])).toEqual([0, 0]);

      // Both past their look without the lock at the same moment: under the row lock one adds it.
      const racer = await fx.start();
      await fx.queue.remove(racer.job.id!);
      await fx.backdate(racer.runId);
      const run = { tenant_id: fx.tenant.id, id: racer.runId, job_key: racer.job.id! };
      const added = await Promise.all([
        fx.lostJobs.readd(fx.queue, run, QUIET.quietMs),
        fx.otherLostBeat().readd(fx.queue, run, QUIET.quietMs),
      ]);
      expect(added.filter(Boolean)).toHaveLength(1);
      expect((await waitingIds()).filter((id) => id === racer.job.id)).toHaveLength(1);
      expect(await recoveries('readded')).toBe(before + 3);
    });
  });

  describe('lost from Redis, with a real worker', () => {
    let fx: Awaited<ReturnType<typeof fixture>>;
    beforeAll(async () => {
      fx = await fixture(60);
    });
    afterAll(() => fx?.close());

    it('a run whose job vanished completes once the beat adds it again, every candidate once', async () => {
      const { runId, job } = await fx.start();
      await fx.queue.remove(job.id!);
      await fx.backdate(runId);
      await startWorker(fx);

      expect(await fx.lostJobs.sweep(QUIET)).toBe(1);
      await fx.completesWithEachOnce(runId);
      expect(await fx.queue.getJobState(job.id!)).toBe('completed');
      // Its search is over: the completed job is no lost one, whatever the queue's retention does.
      await fx.queue.remove(job.id!);
      await fx.backdate(runId);
      expect(await fx.lostJobs.sweep(QUIET)).toBe(0);
    });
  });
});
