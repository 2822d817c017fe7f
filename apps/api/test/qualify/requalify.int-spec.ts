import type { INestApplicationContext } from '@nestjs/common';
import type { JobEnvelope } from '@herald/queues';
import {
  NOT_QUALIFIED,
  Qualifier,
  qualifyJobId,
  sourcingCandidates,
  sourcingRequalified,
} from '@herald/sourcing';
import type { Job } from 'bullmq';
import {
  QUALIFY_LIMIT as LIMIT,
  qualifyFixture,
  startFakeWorld,
  startQualifyWorker,
  type QualifyFixture,
} from '../../../../test/support/qualify-fixture';

jest.setTimeout(180_000);

const NOT_QUALIFIED_SUFFIX = `candidates not qualified (their qualify job kept failing or was lost; each one's reason says why)`;

interface RequalifyAnswer {
  run_id: string;
  status: string;
  requalified: { id: string; stage: string }[];
  skipped: { id: string; reason: string }[];
}
interface Problem {
  type: string;
  detail: string;
  errors: { field: string; message: string }[];
}

async function counted(metric: typeof sourcingRequalified | typeof sourcingCandidates, stage: string) {
  const values = (await metric().get()).values;
  return values.filter((v) => v.labels.stage === stage).reduce((sum, v) => sum + v.value, 0);
}

/**
 * `POST /v1/sourcing-runs/{id}/candidates/requalify` on real Postgres and Redis: candidates the
 * beat closed as not qualified for real (their qualify jobs failed for good and were swept
 * MAX_QUALIFY_RECOVERIES + 1 times) go back to qualifying, a real worker hands each off once and
 * the run completes again without the not-qualified suffix; anything else asked for is skipped
 * with why; two requalifies at once requalify once; runs that cannot qualify are a 409.
 */
describe('requalifying candidates closed as not qualified', () => {
  let world: Awaited<ReturnType<typeof startFakeWorld>>;
  beforeAll(async () => {
    world = await startFakeWorld();
  });
  afterAll(async () => {
    await world?.stop();
  });

  const requalify = (fx: QualifyFixture, key: string, runId: string, body: unknown) =>
    fx.api.request<RequalifyAnswer & Problem>('POST', `/v1/sourcing-runs/${runId}/candidates/requalify`, {
      key,
      body,
    });

  describe('without a worker', () => {
    let fx: QualifyFixture;
    beforeAll(async () => {
      fx = await qualifyFixture(world.directory);
    });
    afterAll(async () => {
      await fx?.api.close();
    });
    afterEach(() => fx.reset());

    it('requalifies only candidates of the run closed as not qualified, and says why it skips the others', async () => {
      const { tenantId, tenantKey, sourcingJobId, runId, jobs } = await fx.search();
      const [open, closed] = [...jobs.values()] as [string[], string[]];
      // Of one batch, five handed off, one rejected by a person, one by its tier; the rest of
      // the run is then closed as not qualified by the beat.
      const qualifier = fx.api.app.get(Qualifier);
      await qualifier.qualifyBatch(tenantId, runId, open.slice(0, 5));
      expect(await qualifier.reject(tenantId, runId, [open[5]!], 'rejected_by_user')).toEqual(
        new Set([open[5]]),
      );
      const patch = await fx.api.request('PATCH', `/v1/sourcing-jobs/${sourcingJobId}`, {
        key: tenantKey,
        body: {
          handoff: {
            A: { action: 'reject' },
            B: { action: 'reject' },
            C: { action: 'reject' },
            D: { action: 'reject' },
          },
        },
      });
      expect(patch.status).toBe(200);
      await qualifier.qualifyBatch(tenantId, runId, [open[6]!]);
      await fx.closeAsNotQualified(runId, [...jobs.keys()]);
      const byId = new Map((await fx.candidates(runId)).map((c) => [c.id, c]));
      expect(open.slice(0, 7).map((id) => byId.get(id)!.stage)).toEqual([
        ...Array<string>(5).fill('handed_off'),
        'rejected',
        'rejected',
      ]);
      expect([byId.get(open[5]!)!.reason, byId.get(open[6]!)!.reason]).toEqual([
        'rejected_by_user',
        'tier_rejected',
      ]);
      expect(
        [...closed, ...open.slice(7)].every((id) => byId.get(id)!.reason!.startsWith(NOT_QUALIFIED)),
      ).toBe(true);
      // A candidate of another run of the tenant, and one of another tenant's run.
      const other = await fx.search({ tenant: { id: tenantId, key: tenantKey }, category: 'plumber' });
      const stranger = await fx.search();
      const otherRunCandidate = [...other.jobs.values()][0]![0]!;
      const strangerCandidate = [...stranger.jobs.values()][0]![0]!;
      const unknown = '0190f5e4-0000-7000-8000-000000000000';
      expect((await fx.run(runId)).reason).toBe(`limit reached; ${LIMIT - 7} ${NOT_QUALIFIED_SUFFIX}`);

      const asked = [
        closed[0]!,
        open[0]!,
        open[5]!,
        open[6]!,
        otherRunCandidate,
        strangerCandidate,
        unknown,
        closed[1]!.toUpperCase(),
      ];
      const answer = await requalify(fx, tenantKey, runId, { candidate_ids: asked });
      expect(answer.status).toBe(202);
      expect(answer.body.run_id).toBe(runId);
      expect(answer.body.status).toBe('running');
      expect(answer.body.requalified).toEqual(
        [closed[0]!, closed[1]!].sort().map((id) => ({ id, stage: 'discovered' })),
      );
      expect(new Map(answer.body.skipped.map((s) => [s.id, s.reason]))).toEqual(
        new Map([
          [open[0]!, 'stage_handed_off'],
          [open[5]!, 'not_closed_as_not_qualified'],
          [open[6]!, 'not_closed_as_not_qualified'],
          [otherRunCandidate, 'other_run'],
          [strangerCandidate, 'not_found'],
          [unknown, 'not_found'],
        ]),
      );
      // Only those two moved; the rest of their batch stays closed, the others as they were.
      const after = new Map((await fx.candidates(runId)).map((c) => [c.id, c]));
      for (const [id, before] of byId) {
        if (id === closed[0] || id === closed[1]) {
          expect(after.get(id)).toMatchObject({
            stage: 'discovered',
            held: false,
            reason: null,
            qualify_recoveries: 0,
          });
          expect(after.get(id)!.qualify_job).toBe(
            qualifyJobId(tenantId, runId, [closed[0]!, closed[1]!].sort()),
          );
        } else expect({ ...after.get(id)!, updated_at: null }).toEqual({ ...before, updated_at: null });
      }
      const job = (await fx.queue.getJob(after.get(closed[0]!)!.qualify_job!)) as Job<
        JobEnvelope<'sourcing.qualify'>
      >;
      expect(await job.getState()).toBe('waiting');
      expect(job.data.payload.candidate_ids).toEqual([closed[0]!, closed[1]!].sort());
      // The run completed is running again until they are done.
      expect(await fx.run(runId)).toMatchObject({ status: 'running', reason: null, finished_at: null });
    });

    it('two requalifies at once requalify each candidate once, and one in a row finds nothing to do', async () => {
      const { tenantKey, runId, jobs } = await fx.search();
      const ids = [...jobs.keys()];
      await fx.closeAsNotQualified(runId, ids);
      const run = await fx.run(runId);
      expect(run.status).toBe('completed');
      expect(run.reason).toBe(`limit reached; ${LIMIT} ${NOT_QUALIFIED_SUFFIX}`);
      const everyone = (await fx.candidates(runId)).map((c) => c.id);
      const [requalified, discoveredCount] = [
        await counted(sourcingRequalified, 'discovered'),
        await counted(sourcingCandidates, 'discovered'),
      ];

      const answers = await Promise.all([
        requalify(fx, tenantKey, runId, { candidate_ids: everyone }),
        requalify(fx, tenantKey, runId, { candidate_ids: everyone }),
      ]);
      expect(answers.map((a) => a.status)).toEqual([202, 202]);
      expect(answers.map((a) => a.body.requalified.length).sort()).toEqual([0, LIMIT]);
      const second = answers.find((a) => a.body.requalified.length === 0)!;
      expect(second.body.skipped).toEqual(everyone.map((id) => ({ id, reason: 'stage_discovered' })));
      expect(answers.map((a) => a.body.status)).toEqual(['running', 'running']);
      // One job for the one batch of 40, each candidate under it.
      const rows = await fx.candidates(runId);
      expect(new Set(rows.map((c) => c.qualify_job)).size).toBe(1);
      expect((await fx.queue.getWaiting(0, -1)).map((j) => j.id)).toEqual([rows[0]!.qualify_job]);
      // Reopened: no longer finished, its reason to be recounted when it completes again.
      expect(await fx.run(runId)).toMatchObject({ status: 'running', reason: null, finished_at: null });
      expect(await counted(sourcingRequalified, 'discovered')).toBe(requalified + LIMIT);
      // Going back is not discovering them again.
      expect(await counted(sourcingCandidates, 'discovered')).toBe(discoveredCount);

      const again = await requalify(fx, tenantKey, runId, {});
      expect(again.status).toBe(202);
      expect(again.body).toEqual({ run_id: runId, status: 'running', requalified: [], skipped: [] });
      expect(await counted(sourcingRequalified, 'discovered')).toBe(requalified + LIMIT);
    });

    it('a paused run stays paused, its candidates requalified; a completed run is not reopened while another run of its job is active', async () => {
      const paused = await fx.search();
      const pause = await fx.api.request<{ status: string }>(
        'POST',
        `/v1/sourcing-runs/${paused.runId}/pause`,
        {
          key: paused.tenantKey,
        },
      );
      expect(pause.body.status).toBe('paused');
      await fx.closeAsNotQualified(paused.runId, [...paused.jobs.keys()]);
      expect((await fx.run(paused.runId)).status).toBe('paused');
      const answer = await requalify(fx, paused.tenantKey, paused.runId, {});
      expect(answer.status).toBe(202);
      expect(answer.body.status).toBe('paused');
      expect(answer.body.requalified).toHaveLength(LIMIT);
      expect(await fx.run(paused.runId)).toMatchObject({ status: 'paused', reason: 'paused by request' });
      await fx.reset();

      const done = await fx.search();
      await fx.closeAsNotQualified(done.runId, [...done.jobs.keys()]);
      expect((await fx.run(done.runId)).status).toBe('completed');
      const next = await fx.api.request<{ id: string }>(
        'POST',
        `/v1/sourcing-jobs/${done.sourcingJobId}/runs`,
        {
          key: done.tenantKey,
          body: {},
        },
      );
      expect(next.status).toBe(202);
      const refused = await requalify(fx, done.tenantKey, done.runId, {});
      expect(refused.status).toBe(409);
      expect(refused.body.detail).toContain(`Run ${next.body.id} of this job is active`);
      expect((await fx.candidates(done.runId)).every((c) => c.stage === 'rejected')).toBe(true);
      expect((await fx.run(done.runId)).status).toBe('completed');
    });

    it('refuses cancelled and dry runs (409), bad bodies (400 naming the field), and other tenants’ runs (404)', async () => {
      const { tenantKey, sourcingJobId, runId, jobs } = await fx.search();
      await fx.closeAsNotQualified(runId, [...jobs.keys()]);
      const some = [...jobs.values()][0]!;

      for (const [body, field] of [
        [{ candidate_ids: ['not-an-id'] }, 'candidate_ids[0]'],
        [{ candidate_ids: [] }, 'candidate_ids'],
        [{ candidate_ids: Array(1001).fill(some[0]) }, 'candidate_ids'],
        [{ candidate_ids: some[0] }, 'candidate_ids'],
        [{ ids: some }, 'ids'],
      ] as const) {
        const bad = await requalify(fx, tenantKey, runId, body);
        expect(bad.status).toBe(400);
        expect(bad.body.type).toMatch(/validation-failed$/);
        expect(bad.body.errors.map((e) => e.field)).toContain(field);
      }
      const stranger = await fx.api.createTenant('Stranger');
      const hidden = await requalify(fx, stranger.key, runId, {});
      expect(hidden.status).toBe(404);
      expect((await requalify(fx, tenantKey, '0190f5e4-0000-7000-8000-000000000000', {})).status).toBe(404);
      expect((await fx.candidates(runId)).every((c) => c.stage === 'rejected')).toBe(true);

      const dry = await fx.api.request<{ id: string; status: string }>(
        'POST',
        `/v1/sourcing-jobs/${sourcingJobId}/runs`,
        {
          key: tenantKey,
          body: { dry_run: true },
        },
      );
      expect(dry.body.status).toBe('completed');
      const dryAnswer = await requalify(fx, tenantKey, dry.body.id, {});
      expect(dryAnswer.status).toBe(409);
      expect(dryAnswer.body.detail).toContain('dry run');

      // Paused, so closing its candidates does not complete it: then cancelled.
      const cancelled = await fx.search();
      const pause = await fx.api.request('POST', `/v1/sourcing-runs/${cancelled.runId}/pause`, {
        key: cancelled.tenantKey,
      });
      expect(pause.status).toBe(200);
      await fx.closeAsNotQualified(cancelled.runId, [...cancelled.jobs.keys()]);
      const cancel = await fx.api.request('POST', `/v1/sourcing-runs/${cancelled.runId}/cancel`, {
        key: cancelled.tenantKey,
      });
      expect(cancel.status).toBe(200);
      const refused = await requalify(fx, cancelled.tenantKey, cancelled.runId, {});
      expect(refused.status).toBe(409);
      expect(refused.body.type).toMatch(/conflict$/);
      expect(refused.body.detail).toContain('cancelled');
      expect((await fx.candidates(cancelled.runId)).filter((c) => c.stage === 'rejected')).toHaveLength(
        LIMIT,
      );
    });
  });

  describe('with a real worker', () => {
    let fx: QualifyFixture;
    let worker: INestApplicationContext | undefined;
    beforeAll(async () => {
      fx = await qualifyFixture(world.directory);
    });
    afterAll(async () => {
      await worker?.close();
      await fx?.api.close();
    });

    it('the worker hands each requalified candidate off once and the run completes again without the not-qualified suffix', async () => {
      const { tenantId, tenantKey, runId, jobs } = await fx.search();
      const [first, second] = [...jobs.keys()] as [string, string];
      await fx.closeAsNotQualified(runId, [first, second]);
      expect((await fx.run(runId)).reason).toBe(`limit reached; ${LIMIT} ${NOT_QUALIFIED_SUFFIX}`);

      // One batch exactly as it was: the same job id, still held by the failed job. It is freed
      // and added again, not silently kept failed.
      const batch = jobs.get(first)!;
      expect(qualifyJobId(tenantId, runId, batch)).toBe(first);
      const one = await requalify(fx, tenantKey, runId, { candidate_ids: batch });
      expect(one.status).toBe(202);
      expect(one.body.requalified).toHaveLength(20);
      expect(one.body.status).toBe('running');
      const readded = (await fx.queue.getJob(first)) as Job<JobEnvelope<'sourcing.qualify'>>;
      expect(await readded.getState()).toBe('waiting');
      expect(readded.attemptsMade).toBe(0);
      // The rest: every candidate of the run still closed as not qualified.
      const rest = await requalify(fx, tenantKey, runId, {});
      expect(rest.body.requalified.map((c) => c.id)).toEqual(jobs.get(second));

      worker = await startQualifyWorker(fx);
      const done = await fx.completesHandedOff(tenantId, runId);
      expect(done.every((c) => c.qualify_recoveries === 0 && c.reason === null)).toBe(true);
      expect((await fx.run(runId)).reason).toBe('limit reached');
      // The funnel counts each contact once: at its one hand-off.
      const [funnel] = await fx.api.query<{ contacts: string }>(
        `SELECT coalesce(sum(contacts), 0) AS contacts
           FROM (SELECT contacts FROM analytics_deltas WHERE tenant_id = $1
                 UNION ALL SELECT contacts FROM analytics_rollups WHERE tenant_id = $1) x`,
        [tenantId],
      );
      expect(Number(funnel!.contacts)).toBe(LIMIT);
      // Nothing left to requalify.
      const after = await requalify(fx, tenantKey, runId, {});
      expect(after.body).toEqual({ run_id: runId, status: 'completed', requalified: [], skipped: [] });
    });
  });
});
