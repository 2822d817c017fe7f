import {
  CURRENT_METRICS,
  dashboardFiles,
  isObject,
  metricNamesInDeployArtifacts,
  metricNamesInExpr,
  plannedMetrics,
  readDashboard,
} from './metric-names';

describe('deploy/grafana/dashboards', () => {
  const dashboards = dashboardFiles().map(readDashboard);
  const known = new Set([...CURRENT_METRICS, ...plannedMetrics()]);

  it('ships the nine dashboards with unique uids and titles', () => {
    expect(dashboards.map((d) => d.json.uid)).toEqual([
      'herald-beat-outbox',
      'herald-campaigns',
      'herald-circuits',
      'herald-deliveries',
      'herald-email-performance',
      'herald-funnel',
      'herald-lead-pipeline',
      'herald-overview',
      'herald-queues',
    ]);
    for (const d of dashboards)
      expect(typeof d.json.title === 'string' && d.json.title.startsWith('Herald / ')).toBe(true);
    expect(new Set(dashboards.map((d) => d.json.title)).size).toBe(dashboards.length);
  });

  it.each(dashboardFiles())('%s queries through the datasource variable', (file) => {
    const d = readDashboard(file);
    const variables =
      isObject(d.json.templating) && Array.isArray(d.json.templating.list)
        ? (d.json.templating.list as unknown[])
        : [];
    expect(
      variables.some(
        (v) => isObject(v) && v.name === 'datasource' && v.type === 'datasource' && v.query === 'prometheus',
      ),
    ).toBe(true);
    const panels = d.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(0);
    for (const panel of panels) {
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(Array.isArray(panel.targets) && panel.targets.length > 0).toBe(true);
    }
    expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
  });

  it.each(dashboardFiles())('%s is tagged for the dashboards menu and gives its numbers a unit', (file) => {
    const d = readDashboard(file);
    expect(d.json.tags).toEqual(['herald']);
    const untyped = d.panels
      .filter((p) => p.type === 'stat' || p.type === 'timeseries')
      .filter((p) => {
        const defaults = isObject(p.fieldConfig) ? p.fieldConfig.defaults : undefined;
        return !isObject(defaults) || typeof defaults.unit !== 'string';
      })
      .map((p) => p.title);
    expect(untyped).toEqual([]);
  });

  it.each(dashboardFiles())('%s only queries metrics that exist or are planned', (file) => {
    const unknown = readDashboard(file)
      .queries.flatMap((q) => metricNamesInExpr(q.expr).map((name) => `${q.panel}: ${name}`))
      .filter((entry) => !known.has(entry.slice(entry.lastIndexOf(' ') + 1)));
    expect(unknown).toEqual([]);
  });
});

describe('many releases in one Prometheus', () => {
  const SCOPE = 'namespace=~"$namespace", release=~"$release"';

  it.each(dashboardFiles())('%s picks a namespace and a release, and every query keeps to them', (file) => {
    const d = readDashboard(file);
    const variables =
      isObject(d.json.templating) && Array.isArray(d.json.templating.list)
        ? (d.json.templating.list as unknown[]).filter(isObject)
        : [];
    expect(variables.slice(0, 3).map((v) => v.name)).toEqual(['datasource', 'namespace', 'release']);
    for (const v of variables.slice(1, 3)) expect(v).toMatchObject({ includeAll: true, allValue: '.*' });
    // Every selector of a herald_* metric or of `up`, in every panel, annotation and variable.
    // The two variables that pick the scope are the only queries without it.
    const scoped = d.queries.filter((q) => q.panel !== '$namespace' && q.panel !== '$release');
    const unscoped = scoped.flatMap((q) =>
      [
        ...q.expr
          .replace(/"(?:[^"\\]|\\.)*"/g, '""')
          .matchAll(/(?<![\w:$])(herald_\w+|up)(?![\w(:])(\{[^}]*\})?/g),
      ]
        .filter((m) => !(m[2] ?? '').startsWith('{namespace=~"", release=~""'))
        .map((m) => `${q.panel}: ${m[0]}`),
    );
    expect(unscoped).toEqual([]);
    expect(d.queries.filter((q) => q.expr.includes(SCOPE)).length).toBeGreaterThan(0);
  });

  it.each(dashboardFiles())('%s marks deploys from herald_build_info', (file) => {
    const d = readDashboard(file);
    const deploys = d.queries.find((q) => q.panel === 'annotation Deploys');
    expect(deploys?.expr).toContain('herald_build_info{' + SCOPE + '}');
    expect(deploys?.expr).toMatch(/by \(namespace, release, version, commit\)/);
  });
});

describe('panels for the states an operator needs to see', () => {
  const titles = (file: string) => readDashboard(file).panels.map((p) => p.title);

  it('shows provider calls and latency, the quota backend and the Postgres pool', () => {
    expect(titles('deploy/grafana/dashboards/deliveries.json')).toEqual(
      expect.arrayContaining([
        'Provider calls by result',
        'Provider call latency p50 / p95 / p99 (every call)',
        'Quota backend by process (1 = in use)',
        'Quota decisions by backend',
        'Retried and deferred deliveries by reason',
      ]),
    );
    expect(titles('deploy/grafana/dashboards/overview.json')).toEqual(
      expect.arrayContaining([
        'Callers waiting for a Postgres connection',
        'Postgres pool connections by state',
      ]),
    );
  });
});

describe('metric names', () => {
  it('keeps planned names apart from the current ones', () => {
    const planned = plannedMetrics();
    for (const name of planned) expect(name).toMatch(/^herald_[a-z0-9_]+$/);
    expect(planned.filter((name) => CURRENT_METRICS.includes(name))).toEqual([]);
  });

  it('extracts herald_* names, histogram series under their base name, recording rules skipped', () => {
    expect(
      metricNamesInExpr(
        'histogram_quantile(0.95, sum by (le) (rate(herald_http_request_duration_seconds_bucket{job="herald-api"}[5m]))) / herald:queue_backlog:sum + herald_jobs_total',
      ),
    ).toEqual(['herald_http_request_duration_seconds', 'herald_jobs_total']);
  });

  it('lists only known names from the dashboards and alert rules', () => {
    const names = metricNamesInDeployArtifacts();
    expect(names).toEqual(
      expect.arrayContaining([
        'herald_http_request_duration_seconds',
        'herald_queue_jobs',
        'herald_beat_leader',
        'herald_circuit_state',
        'herald_schedule_fires_total',
        'herald_enrollment_ticker_lag_seconds',
      ]),
    );
    const known = new Set([...CURRENT_METRICS, ...plannedMetrics()]);
    expect(names.filter((name) => !known.has(name))).toEqual([]);
  });
});
