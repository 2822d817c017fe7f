import { Counter, Gauge, Histogram, register, type Registry } from 'prom-client';
import { accountSeries } from './account-series';

/**
 * Every Herald metric is defined here, once, so dashboards and alert rules have one list to
 * match. prom-client keeps a process-wide registry: getOrCreate lets several Nest apps live
 * in one process (tests, ROLE=all) without "already registered" errors.
 */
export function getOrCreate<T>(name: string, make: () => T, registry: Registry = register): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const JOB_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300];

export class HeraldMetrics {
  readonly buildInfo = getOrCreate(
    'herald_build_info',
    () =>
      new Gauge({
        name: 'herald_build_info',
        help: 'Always 1: the version and source commit this process runs (a change marks a deploy).',
        labelNames: ['version', 'commit'],
      }),
  );
  readonly httpRequests = getOrCreate(
    'herald_http_requests_total',
    () =>
      new Counter({
        name: 'herald_http_requests_total',
        help: 'HTTP requests by method, route and status class.',
        labelNames: ['method', 'route', 'status'],
      }),
  );
  readonly httpDuration = getOrCreate(
    'herald_http_request_duration_seconds',
    () =>
      new Histogram({
        name: 'herald_http_request_duration_seconds',
        help: 'HTTP request latency by method and route.',
        labelNames: ['method', 'route'],
        buckets: LATENCY_BUCKETS,
      }),
  );
  readonly httpInFlight = getOrCreate(
    'herald_http_requests_in_flight',
    () => new Gauge({ name: 'herald_http_requests_in_flight', help: 'HTTP requests being served now.' }),
  );
  readonly authFailures = getOrCreate(
    'herald_auth_failures_total',
    () =>
      new Counter({
        name: 'herald_auth_failures_total',
        help: 'Failed authentications answered 401 on /v1 and /admin/queues, by reason (missing, malformed, unknown, revoked, not_admin_key).',
        labelNames: ['reason'],
      }),
  );
  readonly publicShed = getOrCreate(
    'herald_public_requests_shed_total',
    () =>
      new Counter({
        name: 'herald_public_requests_shed_total',
        help: 'Opens and clicks answered without being recorded because the public email routes had PUBLIC_ROUTES_QUEUE requests waiting for their database share, by route (open, click).',
        labelNames: ['route'],
      }),
  );
  readonly authThrottled = getOrCreate(
    'herald_auth_throttled_total',
    () =>
      new Counter({
        name: 'herald_auth_throttled_total',
        help: 'Requests refused (429) because their client address or key prefix made too many failed authentications, by scope (address, prefix).',
        labelNames: ['scope'],
      }),
  );
  readonly jobs = getOrCreate(
    'herald_jobs_total',
    () =>
      new Counter({
        name: 'herald_jobs_total',
        help: 'Jobs processed by queue, job name and outcome (completed, failed, retried).',
        labelNames: ['queue', 'job', 'outcome'],
      }),
  );
  readonly jobDuration = getOrCreate(
    'herald_job_duration_seconds',
    () =>
      new Histogram({
        name: 'herald_job_duration_seconds',
        help: 'Job processing time by queue and job name.',
        labelNames: ['queue', 'job'],
        buckets: JOB_BUCKETS,
      }),
  );
  readonly jobsActive = getOrCreate(
    'herald_jobs_active',
    () =>
      new Gauge({
        name: 'herald_jobs_active',
        help: 'Jobs being processed by this process now.',
        labelNames: ['queue'],
      }),
  );
  readonly componentUp = getOrCreate(
    'herald_component_up',
    () =>
      new Gauge({
        name: 'herald_component_up',
        help: 'Result of the last readiness check per component (1 up, 0 down).',
        labelNames: ['component'],
      }),
  );
  readonly componentCheckDuration = getOrCreate(
    'herald_component_check_duration_seconds',
    () =>
      new Gauge({
        name: 'herald_component_check_duration_seconds',
        help: 'Duration of the last readiness check per component.',
        labelNames: ['component'],
      }),
  );
  readonly beatLeader = getOrCreate(
    'herald_beat_leader',
    () =>
      new Gauge({
        name: 'herald_beat_leader',
        help: '1 while this beat process holds the leader lease, else 0.',
      }),
  );
  readonly beatLeaderTransitions = getOrCreate(
    'herald_beat_leader_transitions_total',
    () =>
      new Counter({
        name: 'herald_beat_leader_transitions_total',
        help: 'Leadership changes seen by this beat process (acquired, lost, released).',
        labelNames: ['event'],
      }),
  );
  readonly beatFencingToken = getOrCreate(
    'herald_beat_fencing_token',
    () =>
      new Gauge({
        name: 'herald_beat_fencing_token',
        help: 'Fencing token of the lease this beat holds (0 when standby).',
      }),
  );
  readonly workerHeartbeats = getOrCreate(
    'herald_worker_heartbeats_total',
    () =>
      new Counter({
        name: 'herald_worker_heartbeats_total',
        help: 'Heartbeats published by this worker, by result (ok, error).',
        labelNames: ['result'],
      }),
  );
  readonly workersAlive = getOrCreate(
    'herald_workers_alive',
    () =>
      new Gauge({
        name: 'herald_workers_alive',
        help: 'Workers with a fresh heartbeat, as seen at the last readiness check.',
      }),
  );
  readonly quotaDecisions = getOrCreate(
    'herald_quota_decisions_total',
    () =>
      new Counter({
        name: 'herald_quota_decisions_total',
        help: 'Quota decisions in units by decision (admitted, denied, committed, refunded) and backend (redis, postgres).',
        labelNames: ['decision', 'backend'],
      }),
  );
  readonly quotaRemaining = getOrCreate(
    'herald_quota_remaining',
    () =>
      new Gauge({
        name: 'herald_quota_remaining',
        help: "Units left in the current window of a sender account, as seen at this process's last decision.",
        labelNames: ['account', 'window'],
        // Series of deleted or disabled accounts are dropped before each read.
        collect: () => accountSeries.prune(),
      }),
  );
  readonly quotaLimit = getOrCreate(
    'herald_quota_limit',
    () =>
      new Gauge({
        name: 'herald_quota_limit',
        help: 'Configured quota of a sender account per window (hour, day, week).',
        labelNames: ['account', 'window'],
        // Series of deleted or disabled accounts are dropped before each read.
        collect: () => accountSeries.prune(),
      }),
  );
  readonly quotaBackend = getOrCreate(
    'herald_quota_backend',
    () =>
      new Gauge({
        name: 'herald_quota_backend',
        help: '1 for the quota backend this process used last (redis, or postgres while Redis is unreachable), else 0.',
        labelNames: ['backend'],
      }),
  );
  readonly circuitState = getOrCreate(
    'herald_circuit_state',
    () =>
      new Gauge({
        name: 'herald_circuit_state',
        help: 'Circuit breaker state per channel and sender account: 0 closed, 1 half-open, 2 open.',
        labelNames: ['channel', 'account'],
        // Series of deleted or disabled accounts are dropped before each read.
        collect: () => accountSeries.prune(),
      }),
  );
  readonly circuitTransitions = getOrCreate(
    'herald_circuit_transitions_total',
    () =>
      new Counter({
        name: 'herald_circuit_transitions_total',
        help: 'Circuit breaker transitions observed by this process, by channel and new state.',
        labelNames: ['channel', 'to'],
      }),
  );
  readonly channelRequests = getOrCreate(
    'herald_channel_requests_total',
    () =>
      new Counter({
        name: 'herald_channel_requests_total',
        help: 'Provider calls by channel and result (ok, transient, permanent).',
        labelNames: ['channel', 'result'],
      }),
  );
  readonly channelDuration = getOrCreate(
    'herald_channel_request_duration_seconds',
    () =>
      new Histogram({
        name: 'herald_channel_request_duration_seconds',
        help: 'Provider call latency by channel.',
        labelNames: ['channel'],
        buckets: LATENCY_BUCKETS,
      }),
  );
  readonly deliveries = getOrCreate(
    'herald_deliveries_total',
    () =>
      new Counter({
        name: 'herald_deliveries_total',
        help: 'Deliveries through the pipeline by channel and outcome (sent, failed, skipped, unknown, noop; retried: a transient provider failure, tried again later; deferred: waits without an attempt), with the reason of a retry or deferral (transient_error, circuit_open, circuit_half_open, quota_exhausted, quota_unavailable, send_window_closed, campaign_paused, attempt_in_progress).',
        labelNames: ['channel', 'outcome', 'reason'],
      }),
  );
  readonly accountDeliveries = getOrCreate(
    'herald_account_deliveries_total',
    () =>
      new Counter({
        name: 'herald_account_deliveries_total',
        help: 'Sends settled per sender account (its id) and outcome (sent, failed): the denominator of the per-account bounce, complaint and delivery rates. Series of deleted or disabled accounts are dropped.',
        labelNames: ['account', 'outcome'],
        // Series of deleted or disabled accounts are dropped before each read.
        collect: () => accountSeries.prune(),
      }),
  );
  /**
   * Registered here so the dashboards and alerts that read it are served from the start; the
   * engagement recorder counts it (issue 12, analytics) through countEngagementEvent, so an
   * account's series leave with the account like the other per-account series.
   */
  readonly engagementEvents = getOrCreate(
    'herald_engagement_events_total',
    () =>
      new Counter({
        name: 'herald_engagement_events_total',
        help: 'Engagement events recorded (replays not counted), by kind (delivered, bounced, complained, opened, clicked, replied, unsubscribed, converted), source (sendgrid, ses, postmark, mailgun, tracking, unsubscribe-page, api) and sender account (its id; empty when no delivery is known).',
        labelNames: ['kind', 'source', 'account'],
        // Series of deleted or disabled accounts are dropped before each read.
        collect: () => accountSeries.prune(),
      }),
  );
  readonly deliveriesUnknown = getOrCreate(
    'herald_deliveries_unknown_total',
    () =>
      new Counter({
        name: 'herald_deliveries_unknown_total',
        help: 'Deliveries moved to `unknown`, by channel: an attempt died between the provider call and its record, and the account does not take a repeat (at-most-once). Each waits for an operator to resend or close it.',
        labelNames: ['channel'],
      }),
  );
  readonly deliveryStageRetries = getOrCreate(
    'herald_delivery_stage_retries_total',
    () =>
      new Counter({
        name: 'herald_delivery_stage_retries_total',
        help: 'Pipeline steps retried after Postgres or Redis refused them, by stage (load, account lookup, quota reserve, claim, record sent…).',
        labelNames: ['stage'],
      }),
  );
  readonly deliveryDuration = getOrCreate(
    'herald_delivery_duration_seconds',
    () =>
      new Histogram({
        name: 'herald_delivery_duration_seconds',
        help: 'Provider call time per delivery, by channel.',
        labelNames: ['channel'],
        buckets: LATENCY_BUCKETS,
      }),
  );
  readonly beatDutyRuns = getOrCreate(
    'herald_beat_duty_runs_total',
    () =>
      new Counter({
        name: 'herald_beat_duty_runs_total',
        help: "Runs of the leading beat's periodic duties, by duty and outcome (ok, error).",
        labelNames: ['duty', 'outcome'],
      }),
  );
  readonly beatDutyItems = getOrCreate(
    'herald_beat_duty_items_total',
    () =>
      new Counter({
        name: 'herald_beat_duty_items_total',
        help: 'Items a beat duty acted on (deliveries enqueued again, reservations settled…).',
        labelNames: ['duty'],
      }),
  );
  readonly campaignRuns = getOrCreate(
    'herald_campaign_runs_total',
    () =>
      new Counter({
        name: 'herald_campaign_runs_total',
        help: 'Campaign runs finished, by campaign kind, trigger (schedule, manual) and outcome (completed, cancelled).',
        labelNames: ['kind', 'trigger', 'outcome'],
      }),
  );
  readonly scheduleFires = getOrCreate(
    'herald_schedule_fires_total',
    () =>
      new Counter({
        name: 'herald_schedule_fires_total',
        help: 'Campaign schedule fires by kind and outcome: fired (a run started), duplicate (the slot already had its run), skipped_late (catch_up skip), superseded (a later slot was also missed: only the latest runs), inactive (paused, archived, unscheduled), stale (the schedule changed).',
        labelNames: ['kind', 'outcome'],
      }),
  );
  readonly dbErrors = getOrCreate(
    'herald_db_errors_total',
    () =>
      new Counter({
        name: 'herald_db_errors_total',
        help: 'Postgres errors seen by this process: failed readiness checks and pool connection errors.',
        labelNames: ['kind'],
      }),
  );
  readonly redisErrors = getOrCreate(
    'herald_redis_errors_total',
    () =>
      new Counter({
        name: 'herald_redis_errors_total',
        help: 'Redis connection errors seen by this process, by client (shared, queue, worker).',
        labelNames: ['client'],
      }),
  );

  /** The quota of one account's window as this process last saw it (dropped once the account is gone). */
  setQuotaWindow(account: string, window: string, limit: number, remaining?: number): void {
    accountSeries.set(this.quotaLimit, account, { window }, limit);
    if (remaining !== undefined) accountSeries.set(this.quotaRemaining, account, { window }, remaining);
  }

  /** One engagement event recorded; through the account's series, so they leave with the account. */
  countEngagementEvent(kind: string, source: string, account: string | null): void {
    if (account) accountSeries.inc(this.engagementEvents, account, { kind, source });
    else this.engagementEvents.inc({ kind, source, account: '' });
  }

  /** One send of an account settled (sent or failed). */
  countAccountDelivery(account: string, outcome: 'sent' | 'failed'): void {
    accountSeries.inc(this.accountDeliveries, account, { outcome });
  }

  /** One account's breaker state on a channel (dropped once the account is gone). */
  setCircuitState(channel: string, account: string, state: number): void {
    accountSeries.set(this.circuitState, account, { channel }, state);
  }

  /**
   * Creates the event counters' series at 0 for every label value they can take. A counter
   * series born at its first event starts at that value, and rate() and increase() see nothing
   * until it moves again: the first failures of an outage would not show on the dashboards nor
   * trip the alerts. Pre-created, the first event is an increase like any other.
   */
  zeroEventSeries(channels: readonly string[]): void {
    for (const channel of channels) {
      for (const outcome of ['sent', 'failed', 'skipped', 'unknown', 'noop'])
        this.deliveries.inc({ channel, outcome, reason: '' }, 0);
      for (const [outcome, reasons] of Object.entries(DELIVERY_WAIT_REASONS))
        for (const reason of reasons) this.deliveries.inc({ channel, outcome, reason }, 0);
      for (const result of ['ok', 'transient', 'permanent', 'error'])
        this.channelRequests.inc({ channel, result }, 0);
      for (const to of ['closed', 'half_open', 'open']) this.circuitTransitions.inc({ channel, to }, 0);
    }
    for (const decision of ['admitted', 'denied', 'committed', 'refunded'])
      for (const backend of ['redis', 'postgres']) this.quotaDecisions.inc({ decision, backend }, 0);
  }
}

/** The reasons a delivery is retried or deferred (`herald_deliveries_total{outcome,reason}`). */
export const DELIVERY_WAIT_REASONS = {
  retried: ['transient_error'],
  deferred: [
    'circuit_open',
    'circuit_half_open',
    'quota_exhausted',
    'quota_unavailable',
    'send_window_closed',
    'campaign_paused',
    'attempt_in_progress',
  ],
} as const;
