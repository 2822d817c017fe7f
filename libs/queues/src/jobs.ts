import type { JobsOptions } from 'bullmq';
import { createHash } from 'node:crypto';
import type { TraceContext } from '@herald/telemetry';

/**
 * Queue names. These values are keys in Redis: never rename one, only add.
 */
export const QUEUES = {
  system: 'system',
  runs: 'runs',
  deliveries: 'deliveries',
  sourcing: 'sourcing',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];
export const QUEUE_NAMES = Object.values(QUEUES) as readonly QueueName[];

/** The states a queue's jobs are counted in, as BullMQ names them (`paused` is a state of the queue). */
export const JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'failed',
  'completed',
] as const;
export type JobState = (typeof JOB_STATES)[number];

/** Job name → payload. Payloads carry ids and primitives only (ISO strings, never Date). */
export interface JobPayloads {
  /** hold_ms: how long the worker holds the job before finishing it (to observe shutdown and stalls). */
  'system.ping': { ping_id: string; hold_ms: number };
  /** Turn a campaign run into ledger rows and delivery jobs. */
  'runs.fanout': { tenant_id: string; run_id: string };
  /**
   * A campaign schedule's slot: start its run for that local day. Fired by the campaign's BullMQ
   * job scheduler (the slot is then the job's `prevMillis`) or by the beat's catch-up (`slot`).
   */
  'campaigns.fire': { tenant_id: string; campaign_id: string; slot?: string };
  /**
   * Send a page of a run's deliveries: the fan-out's unit of work, so a run of 100,000 contacts
   * is 200 jobs, not 100,000. A delivery of the page that must wait (quota, breaker, window)
   * continues as its own `deliveries.send` job, delayed.
   */
  'deliveries.page': { tenant_id: string; run_id: string; delivery_ids: string[] };
  /**
   * Send one delivery of the ledger. `resend`: an operator resent a delivery held as `unknown`
   * (the attempts it had then), which gives the job an id of its own.
   */
  'deliveries.send': { tenant_id: string; delivery_id: string; resend?: number };
  /**
   * Qualify a batch (≤ 100) of a sourcing run's discovered candidates: assess, enrich, score and
   * hand off each. Every step is idempotent per candidate, so a repeated batch redoes nothing.
   */
  'sourcing.qualify': { tenant_id: string; run_id: string; candidate_ids: string[] };
  /**
   * A sourcing run's search, step by step from the run's cursor (a crash resumes there).
   * `resume`: when the run was resumed (paused or failed before), which gives the job a new id.
   */
  'sourcing.run': { tenant_id: string; run_id: string; resume?: number };
  /** A sourcing job's schedule slot: start its run for that local day (as `campaigns.fire`). */
  'sourcing.fire': { tenant_id: string; job_id: string; slot?: string };
}
export type JobName = keyof JobPayloads;

/**
 * What is stored in Redis: the payload plus the trace context that joins worker logs to the
 * api's (`trace.traceparent`, W3C, continues the producer's trace in the worker's job span).
 */
export interface JobEnvelope<N extends JobName = JobName> {
  payload: JobPayloads[N];
  trace: TraceContext;
}

interface JobDefinition<N extends JobName> {
  queue: QueueName;
  /** Deterministic id (BullMQ forbids ":" in custom ids): adding the same logical job twice is a no-op. */
  jobId: (payload: JobPayloads[N]) => string;
  options: Omit<JobsOptions, 'jobId'>;
}

/** Every job's queue, id and options, in one table. */
export const JOBS: { readonly [N in JobName]: JobDefinition<N> } = {
  'system.ping': {
    queue: QUEUES.system,
    jobId: (p) => `ping-${p.ping_id}`,
    options: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  },
  'runs.fanout': {
    queue: QUEUES.runs,
    jobId: (p) => p.run_id,
    options: {
      attempts: 20,
      backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  },
  // Job schedulers add their own ids (`repeat:…`); this id is the beat's catch-up for one slot.
  'campaigns.fire': {
    queue: QUEUES.runs,
    jobId: (p) => `fire-${p.campaign_id}-${p.slot ? Date.parse(p.slot) : 'now'}`,
    options: {
      attempts: 10,
      backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
      removeOnComplete: { age: 2 * 24 * 3600, count: 10_000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  },
  // The id names the page's content: enqueueing the same page again (a repeated fan-out page)
  // is a no-op while its job exists, and the ledger makes a second pass harmless anyway.
  'deliveries.page': {
    queue: QUEUES.deliveries,
    jobId: (p) =>
      `page-${p.run_id}-${createHash('sha256').update(p.delivery_ids.join(',')).digest('hex').slice(0, 24)}`,
    options: {
      attempts: 10,
      backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  },
  // Provider errors are retried by the delivery pipeline itself (attempts live in the ledger);
  // BullMQ's attempts only cover unexpected errors (database down, bugs).
  'deliveries.send': {
    queue: QUEUES.deliveries,
    jobId: (p) => (p.resend === undefined ? p.delivery_id : `${p.delivery_id}-resend-${p.resend}`),
    options: {
      attempts: 10,
      backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  },
  // Like a delivery page, the id names the batch's content: the same batch enqueued twice is one job.
  'sourcing.qualify': {
    queue: QUEUES.sourcing,
    jobId: (p) =>
      `qualify-${p.run_id}-${createHash('sha256').update(p.candidate_ids.join(',')).digest('hex').slice(0, 24)}`,
    options: {
      attempts: 10,
      backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  },
  // One job per run (per resume): it moves itself to the delayed set while it waits for quota,
  // a breaker or a retry, and completes when the search is over, paused, cancelled or failed.
  'sourcing.run': {
    queue: QUEUES.sourcing,
    jobId: (p) => (p.resume === undefined ? `srun-${p.run_id}` : `srun-${p.run_id}-resume-${p.resume}`),
    options: {
      attempts: 20,
      backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  },
  'sourcing.fire': {
    queue: QUEUES.sourcing,
    jobId: (p) => `sfire-${p.job_id}-${p.slot ? Date.parse(p.slot) : 'now'}`,
    options: {
      attempts: 10,
      backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
      removeOnComplete: { age: 2 * 24 * 3600, count: 10_000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  },
};

export const JOB_NAMES = Object.keys(JOBS) as readonly JobName[];
