import type { OutboxRelay } from '@herald/deliveries';
import type { JobState, Queue } from 'bullmq';
import type { EntityManager } from 'typeorm';
import { QUALIFY_BATCH, qualifyJobId } from '../candidates/candidate-writer';
import { SourcingUnavailableError } from '../errors';

/** The run whose candidates a `sourcing.qualify` job carries. */
export interface QualifyScope {
  tenantId: string;
  runId: string;
}

export interface RequeueOptions {
  /** One more recovery without moving on (the beat's re-add); a requalify resets the count itself. */
  recovery: boolean;
  /**
   * How long to wait for Redis at most (a request must answer); past it nothing is written (the
   * caller's transaction rolls back) and no later command is sent. Unset: wait (the beat).
   */
  redisTimeoutMs?: number;
}

/** A job in one of these sets will still run: waiting, active, delayed, prioritized, waiting-children. */
export function liveJob(state: JobState | 'unknown'): boolean {
  return state !== 'unknown' && state !== 'completed' && state !== 'failed';
}

/**
 * Puts a run's candidates under new `sourcing.qualify` jobs in the caller's transaction, which
 * holds the run's row lock (so the beat's recovery of the same candidates waits): batches of
 * QUALIFY_BATCH through the outbox, each candidate's `qualify_job` set to its batch's job.
 * Job ids hash the batch, so a batch carried before has its old job's id, and a job still
 * holding it (completed, failed for good, or data left in no set) would make the add a silent
 * no-op: it is removed first. A live job keeps its id: it loads its candidates when it runs
 * (or, already past them, completes leaving them open for the beat to add again).
 * Returns the batches to dispatch after commit (dispatchQualifyJobs).
 */
export async function requeueQualifyJobs(
  manager: EntityManager,
  queue: Queue,
  outbox: OutboxRelay,
  scope: QualifyScope,
  candidateIds: readonly string[],
  options: RequeueOptions,
): Promise<string[][]> {
  const batches: string[][] = [];
  for (let i = 0; i < candidateIds.length; i += QUALIFY_BATCH) {
    const batch = candidateIds.slice(i, i + QUALIFY_BATCH);
    const jobId = qualifyJobId(scope.tenantId, scope.runId, batch);
    await freeJobId(queue, jobId, options.redisTimeoutMs);
    await outbox.write(manager, scope.tenantId, 'sourcing.qualify', {
      tenant_id: scope.tenantId,
      run_id: scope.runId,
      candidate_ids: batch,
    });
    await assignQualifyJob(manager, scope, batch, jobId, options.recovery);
    batches.push(batch);
  }
  return batches;
}

/** The candidates' job now (and, for a recovery, one more without moving on); young again for the beat's quiet period. */
export async function assignQualifyJob(
  manager: EntityManager,
  scope: QualifyScope,
  candidateIds: readonly string[],
  jobId: string,
  recovery: boolean,
): Promise<void> {
  await manager.query(
    `UPDATE candidates SET qualify_job = $3, qualify_recoveries = qualify_recoveries + $5, updated_at = now()
      WHERE tenant_id = $1 AND run_id = $4 AND id = ANY ($2::uuid[])`,
    [scope.tenantId, candidateIds, jobId, scope.runId, recovery ? 1 : 0],
  );
}

/** After commit: puts the jobs on the queue (the outbox sweep covers a failure). */
export async function dispatchQualifyJobs(
  outbox: OutboxRelay,
  scope: QualifyScope,
  batches: readonly string[][],
): Promise<void> {
  for (const candidateIds of batches)
    await outbox.dispatchJob('sourcing.qualify', {
      tenant_id: scope.tenantId,
      run_id: scope.runId,
      candidate_ids: candidateIds,
    });
}

/** Removes a finished job holding this id; a live one is left. Bounded by `timeoutMs` when given. */
async function freeJobId(queue: Queue, jobId: string, timeoutMs: number | undefined): Promise<void> {
  let gaveUp = false;
  const work = (async () => {
    const state = await queue.getJobState(jobId);
    // Past the deadline the caller has rolled back: a late remove must not follow.
    if (!liveJob(state) && !gaveUp) await queue.remove(jobId);
  })();
  if (timeoutMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          gaveUp = true;
          reject(new SourcingUnavailableError(`Redis did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    // A rejection after the deadline has no one to hear it.
    work.catch(() => undefined);
  }
}
