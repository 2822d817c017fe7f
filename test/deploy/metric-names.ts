import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * Reads the shipped observability artifacts (Grafana dashboards, Prometheus rules) and the
 * metric names they rely on. The specs in test/deploy check the artifacts against these
 * lists; an end-to-end test can check that a running fleet exports every current name.
 */

export const REPO_ROOT = join(__dirname, '..', '..');

export const ALERTS_FILE = 'deploy/prometheus/alerts.yml';
export const DASHBOARDS_DIR = 'deploy/grafana/dashboards';
export const PLANNED_METRICS_FILE = 'deploy/planned-metrics.txt';

/**
 * Metric names the fleet exports today: libs/telemetry (HeraldMetrics), the collectors in
 * libs/queues, libs/persistence, libs/deliveries, libs/sourcing and apps/beat (sequence and
 * sourcing run metrics), the provider events of libs/engagement (api), and the
 * prom-client default metrics registered with the herald_ prefix.
 * Histograms are listed by their base name.
 */
export const CURRENT_METRICS: readonly string[] = [
  'herald_build_info',
  'herald_http_requests_total',
  'herald_http_request_duration_seconds',
  'herald_http_requests_in_flight',
  'herald_public_requests_shed_total',
  'herald_jobs_total',
  'herald_job_duration_seconds',
  'herald_jobs_active',
  'herald_queue_jobs',
  'herald_component_up',
  'herald_component_check_duration_seconds',
  'herald_beat_leader',
  'herald_beat_leader_transitions_total',
  'herald_beat_fencing_token',
  'herald_worker_heartbeats_total',
  'herald_workers_alive',
  'herald_deliveries_total',
  'herald_deliveries_unknown_total',
  'herald_account_deliveries_total',
  'herald_engagement_events_total',
  'herald_deliveries_unknown',
  'herald_fair_queue',
  'herald_delivery_stage_retries_total',
  'herald_delivery_duration_seconds',
  'herald_quota_remaining',
  'herald_quota_limit',
  'herald_quota_decisions_total',
  'herald_circuit_state',
  'herald_circuit_transitions_total',
  'herald_outbox_pending',
  'herald_outbox_lag_seconds',
  'herald_db_errors_total',
  'herald_redis_errors_total',
  'herald_redis_memory_used_bytes',
  'herald_redis_memory_max_bytes',
  'herald_db_pool_connections',
  'herald_beat_duty_runs_total',
  'herald_beat_duty_items_total',
  'herald_schedule_fires_total',
  'herald_campaign_runs_total',
  'herald_sourcing_candidates_total',
  'herald_sourcing_requests_total',
  'herald_sourcing_run_recoveries_total',
  'herald_sourcing_candidates_requalified_total',
  'herald_sourcing_active_runs',
  'herald_sourcing_oldest_progress_age_seconds',
  'herald_enrollments',
  'herald_enrollment_ticker_lag_seconds',
  'herald_quota_backend',
  'herald_channel_requests_total',
  'herald_channel_request_duration_seconds',
  'herald_provider_events_total',
  'herald_sender_account_paused_total',
  'herald_sender_account_health_events_total',
  'herald_sourcing_assessment_seconds',
  'herald_sourcing_cache_total',
  'herald_sourcing_fetch_slots',
  'herald_process_cpu_user_seconds_total',
  'herald_process_cpu_system_seconds_total',
  'herald_process_cpu_seconds_total',
  'herald_process_start_time_seconds',
  'herald_process_resident_memory_bytes',
  'herald_process_virtual_memory_bytes',
  'herald_process_heap_bytes',
  'herald_process_open_fds',
  'herald_process_max_fds',
  'herald_nodejs_eventloop_lag_seconds',
  'herald_nodejs_eventloop_lag_min_seconds',
  'herald_nodejs_eventloop_lag_max_seconds',
  'herald_nodejs_eventloop_lag_mean_seconds',
  'herald_nodejs_eventloop_lag_stddev_seconds',
  'herald_nodejs_eventloop_lag_p50_seconds',
  'herald_nodejs_eventloop_lag_p90_seconds',
  'herald_nodejs_eventloop_lag_p99_seconds',
  'herald_nodejs_active_resources',
  'herald_nodejs_active_resources_total',
  'herald_nodejs_active_handles',
  'herald_nodejs_active_handles_total',
  'herald_nodejs_active_requests',
  'herald_nodejs_active_requests_total',
  'herald_nodejs_heap_size_total_bytes',
  'herald_nodejs_heap_size_used_bytes',
  'herald_nodejs_external_memory_bytes',
  'herald_nodejs_heap_space_size_total_bytes',
  'herald_nodejs_heap_space_size_used_bytes',
  'herald_nodejs_heap_space_size_available_bytes',
  'herald_nodejs_version_info',
  'herald_nodejs_gc_duration_seconds',
];

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readRepoFile(path: string): string {
  return readFileSync(join(REPO_ROOT, path), 'utf8');
}

/** Metric names announced by a later issue (deploy/planned-metrics.txt, one per line). */
export function plannedMetrics(): string[] {
  return readRepoFile(PLANNED_METRICS_FILE)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

export interface AlertRule {
  group: string;
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RecordingRule {
  group: string;
  record: string;
  expr: string;
}

export function ruleGroups(path = ALERTS_FILE): { alerts: AlertRule[]; records: RecordingRule[] } {
  const doc: unknown = parse(readRepoFile(path));
  if (!isObject(doc) || !Array.isArray(doc.groups)) throw new Error(`${path}: no groups`);
  const alerts: AlertRule[] = [];
  const records: RecordingRule[] = [];
  for (const group of doc.groups as unknown[]) {
    if (!isObject(group) || typeof group.name !== 'string' || !Array.isArray(group.rules)) {
      throw new Error(`${path}: a group needs a name and rules`);
    }
    for (const rule of group.rules as unknown[]) {
      if (!isObject(rule) || typeof rule.expr !== 'string')
        throw new Error(`${path}: a rule in ${group.name} has no expr`);
      if (typeof rule.record === 'string') {
        records.push({ group: group.name, record: rule.record, expr: rule.expr });
      } else if (typeof rule.alert === 'string') {
        alerts.push({
          group: group.name,
          alert: rule.alert,
          expr: rule.expr,
          labels: stringMap(rule.labels),
          annotations: stringMap(rule.annotations),
        });
      } else {
        throw new Error(`${path}: a rule in ${group.name} is neither an alert nor a recording rule`);
      }
    }
  }
  return { alerts, records };
}

function stringMap(value: unknown): Record<string, string> {
  if (!isObject(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

export interface DashboardQuery {
  file: string;
  panel: string;
  expr: string;
}

export interface Dashboard {
  file: string;
  json: JsonObject;
  panels: JsonObject[];
  queries: DashboardQuery[];
}

export function dashboardFiles(dir = DASHBOARDS_DIR): string[] {
  return readdirSync(join(REPO_ROOT, dir))
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => `${dir}/${name}`);
}

/** Every panel (rows' nested panels included) and every PromQL query: panel targets, annotations and query variables. */
export function readDashboard(file: string): Dashboard {
  const json: unknown = JSON.parse(readRepoFile(file));
  if (!isObject(json)) throw new Error(`${file}: not a JSON object`);
  const panels: JsonObject[] = [];
  const collect = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const panel of list as unknown[]) {
      if (!isObject(panel)) continue;
      panels.push(panel);
      collect(panel.panels);
    }
  };
  collect(json.panels);
  const queries: DashboardQuery[] = [];
  for (const panel of panels) {
    const targets = Array.isArray(panel.targets) ? (panel.targets as unknown[]) : [];
    for (const target of targets) {
      if (isObject(target) && typeof target.expr === 'string') {
        queries.push({
          file,
          panel: typeof panel.title === 'string' ? panel.title : '(untitled)',
          expr: target.expr,
        });
      }
    }
  }
  const templating =
    isObject(json.templating) && Array.isArray(json.templating.list)
      ? (json.templating.list as unknown[])
      : [];
  const annotations =
    isObject(json.annotations) && Array.isArray(json.annotations.list)
      ? (json.annotations.list as unknown[])
      : [];
  for (const annotation of annotations) {
    if (isObject(annotation) && typeof annotation.expr === 'string')
      queries.push({ file, panel: `annotation ${String(annotation.name)}`, expr: annotation.expr });
  }
  for (const variable of templating) {
    if (!isObject(variable) || variable.type !== 'query') continue;
    const query = isObject(variable.query) ? variable.query.query : variable.query;
    if (typeof query === 'string') queries.push({ file, panel: `$${String(variable.name)}`, expr: query });
  }
  return { file, json, panels, queries };
}

const METRIC_NAME = /(?<![\w:])herald_\w+(?![\w:])/g;
const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;

/** herald_* metric names in a PromQL expression; histogram series map to their base name. */
export function metricNamesInExpr(expr: string): string[] {
  return [
    ...new Set([...expr.matchAll(METRIC_NAME)].map((match) => match[0].replace(HISTOGRAM_SERIES, ''))),
  ].sort();
}

/** Every herald_* metric name the shipped dashboards and alert rules query. */
export function metricNamesInDeployArtifacts(): string[] {
  const { alerts, records } = ruleGroups();
  const exprs = [
    ...alerts.map((rule) => rule.expr),
    ...records.map((rule) => rule.expr),
    ...dashboardFiles().flatMap((file) => readDashboard(file).queries.map((query) => query.expr)),
  ];
  return [...new Set(exprs.flatMap(metricNamesInExpr))].sort();
}
