import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@herald/config';
import { OutboxRelay } from '@herald/deliveries';
import {
  hashTaggedPrefix,
  JobProducer,
  QUEUES,
  REDIS,
  type JobEnvelope,
  type RedisClient,
} from '@herald/queues';
import {
  MAX_QUALIFY_RECOVERIES,
  OPEN_CANDIDATE,
  SourcingLostQualifyJobs,
  SourcingRunExecutor,
} from '@herald/sourcing';
import { HeraldLogger } from '@herald/telemetry';
import { eventually, FakeDirectory, FakeSites, testEnvironment, testRedisUrl } from '@herald/testing';
import { Worker, type Job } from 'bullmq';
import { register } from 'prom-client';
import { DataSource } from 'typeorm';
import { AppModule as WorkerAppModule } from '../../apps/worker/src/app.module';
import { TestApi } from './api-app';
import { directorySourcing } from './sourcing-fixture';

/** The fake sites are reached on loopback under `*.sites.test`. */
export const QUALIFY_OUTBOUND = {
  OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
  OUTBOUND_HOST_OVERRIDES: '*.sites.test=127.0.0.1',
};
/** Two steps of 20: two qualify jobs of 20 candidates each. */
export const QUALIFY_LIMIT = 40;
/** The quiet period the sweeps run with: backdated candidates are past it, fresh ones are not. */
export const QUIET = { quietMs: 60_000 };

export type QualifyRun = { id: string; status: string; reason: string | null; finished_at: Date | null };
export interface CandidateState {
  id: string;
  stage: string;
  held: boolean;
  reason: string | null;
  qualify_job: string | null;
  qualify_recoveries: number;
  contact_id: string | null;
  updated_at: Date;
}

export interface SearchOptions {
  /** Search for this tenant (default: a new one, so nothing is deduped across tests). */
  tenant?: { id: string; key: string };
  category?: string;
}

export type QualifyFixture = Awaited<ReturnType<typeof qualifyFixture>>;

/** The api's `sourcing` queue, its hash-tagged key prefix and the Redis client, to break jobs with. */
export function sourcingQueue(api: TestApi) {
  return {
    queue: api.app.get(JobProducer).queue(QUEUES.sourcing),
    prefix: hashTaggedPrefix(api.config.redis.prefix),
    redis: api.app.get<RedisClient>(REDIS),
  };
}

/** The fake web the qualify specs search and assess: 600 businesses, their sites on loopback. */
export async function startFakeWorld(): Promise<{ directory: FakeDirectory; stop: () => Promise<void> }> {
  const sites = await FakeSites.start();
  const directory = await FakeDirectory.start({
    seed: 7,
    count: 600,
    apiKey: 'qualify-directory-key',
    sitesPort: sites.httpPort,
  });
  return {
    directory,
    stop: async () => {
      await directory.stop();
      await sites.stop();
    },
  };
}

/**
 * What the sourcing-qualify specs share: one api (its own database and queue prefix) whose
 * runs search the fake directory in process and leave their qualify jobs waiting, and the
 * means to break those jobs for real (fail them for good, sweep them closed) before a worker
 * (startQualifyWorker) qualifies what is left.
 */
export async function qualifyFixture(directory: FakeDirectory) {
  const api = await TestApi.start(QUALIFY_OUTBOUND);
  const { queue, prefix, redis } = sourcingQueue(api);
  const sweeper = api.app.get(SourcingLostQualifyJobs);
  const candidates = (runId: string) =>
    api.query<CandidateState>(
      `SELECT id, stage, held, reason, qualify_job, qualify_recoveries, contact_id, updated_at
         FROM candidates WHERE run_id = $1 ORDER BY id`,
      [runId],
    );
  /** The open candidates have not moved for an hour: past any quiet period the tests sweep with. */
  const backdate = (runId: string) =>
    api.query(
      `UPDATE candidates c SET updated_at = now() - interval '1 hour' WHERE c.run_id = $1 AND ${OPEN_CANDIDATE}`,
      [runId],
    );
  const run = async (runId: string) =>
    (
      await api.query<QualifyRun>(`SELECT id, status, reason, finished_at FROM sourcing_runs WHERE id = $1`, [
        runId,
      ])
    )[0]!;

  /** Takes each of these waiting jobs as a worker would and fails it on its last attempt. */
  async function failForGood(jobIds: readonly string[]): Promise<void> {
    for (const id of jobIds) await redis.hset(`${prefix}:${QUEUES.sourcing}:${id}`, 'atm', 9);
    const worker = new Worker(QUEUES.sourcing, null, { connection: { url: testRedisUrl() }, prefix });
    try {
      for (let i = 0; i < jobIds.length; i += 1) {
        const job = await worker.getNextJob('t1');
        expect(jobIds).toContain(job.id);
        await job.moveToFailed(new Error('database unreachable'), 't1');
      }
      for (const id of jobIds) expect(await queue.getJobState(id)).toBe('failed');
    } finally {
      await worker.close();
    }
  }

  return {
    api,
    queue,
    prefix,
    redis,
    candidates,
    sweeper,
    backdate,
    run,
    failForGood,
    /** Each test's runs and jobs are its own: a run it left active would be the next one's to sweep. */
    async reset(): Promise<void> {
      await api.query(
        `UPDATE sourcing_runs SET status = 'cancelled' WHERE status IN ('queued', 'running', 'paused')`,
      );
      await queue.drain(true);
      await queue.clean(0, 1000, 'failed');
      await queue.clean(0, 1000, 'completed');
    },
    /** Another beat's sweep (its own page cursor) on the same database and Redis. */
    otherBeat: () =>
      new SourcingLostQualifyJobs(
        api.app.get(DataSource),
        api.app.get(JobProducer),
        api.app.get(OutboxRelay),
        api.app.get(HeraldLogger),
      ),
    stages: async (runId: string) =>
      Object.fromEntries(
        (
          await api.query<{ stage: string; n: string }>(
            `SELECT stage, count(*) AS n FROM candidates WHERE run_id = $1 GROUP BY stage`,
            [runId],
          )
        ).map((r) => [r.stage, Number(r.n)]),
      ),
    /**
     * A tenant's run whose every tier becomes a contact, searched to its limit in process (its
     * `sourcing.run` job removed: nothing else drives it), its qualify jobs left waiting;
     * returns them by job id with their candidates.
     */
    async search(options: SearchOptions = {}): Promise<{
      tenantId: string;
      tenantKey: string;
      sourcingJobId: string;
      runId: string;
      jobs: Map<string, string[]>;
    }> {
      const tenant = options.tenant ?? (await api.createTenant('Qualify'));
      const call = async <T>(method: string, path: string, body?: unknown) =>
        api.request<T>(method, path, { key: tenant.key, body });
      const { accountId, modelId } = await directorySourcing(call, { directory, pageSize: 20 });
      const next = await call<{ id: string }>('POST', '/v1/sourcing-jobs', {
        name: 'Bakeries',
        source_account_id: accountId,
        criteria: { category: options.category ?? 'bakery' },
        limit: QUALIFY_LIMIT,
        scoring_model_id: modelId,
        handoff: Object.fromEntries(['A', 'B', 'C', 'D'].map((t) => [t, { action: 'contact' }])),
      });
      expect(next.status).toBe(201);
      const started = await call<{ id: string }>('POST', `/v1/sourcing-jobs/${next.body.id}/runs`, {});
      expect(started.status).toBe(202);
      const runId = started.body.id;
      await eventually(() => queue.getJob(`srun-${runId}`), { what: 'run job' });
      await queue.remove(`srun-${runId}`);
      expect(await api.app.get(SourcingRunExecutor).run(tenant.id, runId)).toMatchObject({ kind: 'done' });
      const jobs = new Map<string, string[]>();
      for (const c of await candidates(runId)) {
        expect(c.stage).toBe('discovered');
        jobs.set(c.qualify_job!, [...(jobs.get(c.qualify_job!) ?? []), c.id]);
      }
      expect([...jobs.values()].map((ids) => ids.length)).toEqual([20, 20]);
      for (const [jobId, ids] of jobs) {
        const job = (await queue.getJob(jobId)) as Job<JobEnvelope<'sourcing.qualify'>>;
        expect(await job.getState()).toBe('waiting');
        expect([...job.data.payload.candidate_ids].sort()).toEqual(ids);
      }
      return { tenantId: tenant.id, tenantKey: tenant.key, sourcingJobId: next.body.id, runId, jobs };
    },
    /**
     * The beat's way to "not qualified", for real: these jobs fail for good, are handed back
     * MAX_QUALIFY_RECOVERIES times and fail again, and the next sweep closes their candidates.
     */
    async closeAsNotQualified(runId: string, jobIds: readonly string[]): Promise<void> {
      for (let round = 0; round <= MAX_QUALIFY_RECOVERIES; round += 1) {
        await failForGood(jobIds);
        await backdate(runId);
        expect(await sweeper.sweep(QUIET)).toBe(jobIds.length);
      }
      for (const id of jobIds) expect(await queue.getJobState(id)).toBe('failed');
    },
    /** The run completes with every candidate handed off, each under a contact of its own. */
    async completesHandedOff(tenantId: string, runId: string): Promise<CandidateState[]> {
      await eventually(
        async () =>
          (await api.query(`SELECT 1 FROM sourcing_runs WHERE id = $1 AND status = 'completed'`, [runId]))
            .length > 0,
        { what: 'run completed', timeoutMs: 90_000, intervalMs: 200 },
      );
      const rows = await candidates(runId);
      expect(rows).toHaveLength(QUALIFY_LIMIT);
      expect(rows.every((c) => c.stage === 'handed_off' && c.contact_id !== null)).toBe(true);
      // One contact per candidate: none was handed off twice under two contacts.
      expect(new Set(rows.map((c) => c.contact_id)).size).toBe(QUALIFY_LIMIT);
      const [contacts] = await api.query<{ n: string }>(
        `SELECT count(*) AS n FROM contacts WHERE tenant_id = $1 AND id = ANY ($2::uuid[])`,
        [tenantId, rows.map((c) => c.contact_id)],
      );
      expect(contacts!.n).toBe(String(QUALIFY_LIMIT));
      return rows;
    },
  };
}

/** A worker process's app (in this process) consuming the fixture's `sourcing` queue. */
export async function startQualifyWorker(fx: QualifyFixture): Promise<INestApplicationContext> {
  return startSourcingWorker(fx.api);
}

/**
 * A worker process's app (in this process) consuming the api's `sourcing` queue (its database
 * and queue prefix), reaching the fake sites; `env` adds to or overrides its variables. The
 * caller closes it.
 */
export async function startSourcingWorker(
  api: TestApi,
  env: Record<string, string> = {},
): Promise<INestApplicationContext> {
  register.clear();
  const config = loadConfig(
    testEnvironment({
      ...QUALIFY_OUTBOUND,
      DATABASE_URL: api.database.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: api.config.redis.prefix,
      WORKER_QUEUES: 'sourcing',
      LOG_LEVEL: 'silent',
      ...env,
    }),
    { role: 'worker' },
  );
  const app = await NestFactory.createApplicationContext(WorkerAppModule.register(config), {
    logger: false,
  });
  await app.init();
  return app;
}
