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

  it('ships the six dashboards with unique uids and titles', () => {
    expect(dashboards.map((d) => d.json.uid)).toEqual([
      'herald-beat-outbox',
      'herald-campaigns',
      'herald-circuits',
      'herald-deliveries',
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
