import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ALERTS_FILE, DASHBOARDS_DIR, isObject, readRepoFile, REPO_ROOT } from './metric-names';

const CHART = 'helm/herald';
const TEMPLATES = `${CHART}/templates`;

function templates(): { name: string; text: string }[] {
  return readdirSync(join(REPO_ROOT, TEMPLATES), { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(yaml|tpl|txt)$/.test(name))
    .sort()
    .map((name) => ({ name, text: readRepoFile(`${TEMPLATES}/${name}`) }));
}

/** Every `.Values.a.b.c` (or `$.Values.a.b.c`) path a template reads directly. */
function valuesPaths(text: string): string[] {
  return [...text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)].map((match) =>
    (match[1] ?? '').slice(1),
  );
}

function hasPath(values: unknown, path: string): boolean {
  let node = values;
  for (const key of path.split('.')) {
    if (!isObject(node) || !(key in node)) return false;
    node = node[key];
  }
  return true;
}

describe('helm/herald', () => {
  const values: unknown = parse(readRepoFile(`${CHART}/values.yaml`));

  it('has a v2 Chart.yaml with name, version and appVersion', () => {
    const chart: unknown = parse(readRepoFile(`${CHART}/Chart.yaml`));
    expect(isObject(chart)).toBe(true);
    if (!isObject(chart)) return;
    expect(chart.apiVersion).toBe('v2');
    expect(chart.name).toBe('herald');
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
    expect(typeof chart.appVersion).toBe('string');
    expect(chart.appVersion).toBe((JSON.parse(readRepoFile('package.json')) as { version: string }).version);
  });

  it('reads only values that values.yaml declares', () => {
    const missing = templates().flatMap(({ name, text }) =>
      valuesPaths(text)
        .filter((path) => !hasPath(values, path))
        .map((path) => `${name}: .Values.${path}`),
    );
    expect(missing).toEqual([]);
    expect(templates().flatMap(({ text }) => valuesPaths(text)).length).toBeGreaterThan(50);
  });

  it.each(templates().map(({ name, text }) => [name, text] as const))(
    '%s has balanced actions and blocks',
    (_name, text) => {
      expect(text.split('{{').length).toBe(text.split('}}').length);
      const opened = [...text.matchAll(/\{\{-?\s*(?:if|with|range|define|block)\b/g)].length;
      const closed = [...text.matchAll(/\{\{-?\s*end\s*-?\}\}/g)].length;
      expect(closed).toBe(opened);
    },
  );

  it('ships a Deployment per role and the operational objects', () => {
    const names = templates().map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining([
        '_helpers.tpl',
        'NOTES.txt',
        'deployment-api.yaml',
        'deployment-worker.yaml',
        'deployment-beat.yaml',
        'pdb.yaml',
        'hpa-api.yaml',
        'hpa-worker.yaml',
        'keda-worker.yaml',
        'serviceaccount.yaml',
        'ingress-api.yaml',
        'tests/test-ready.yaml',
        'migrations-job.yaml',
        'configmap.yaml',
        'secret.yaml',
        'servicemonitor.yaml',
        'prometheusrule.yaml',
        'networkpolicy.yaml',
        'services.yaml',
        'dashboards-configmap.yaml',
      ]),
    );
    expect(readRepoFile(`${TEMPLATES}/migrations-job.yaml`)).toContain(
      'helm.sh/hook: pre-install,pre-upgrade',
    );
  });

  it('reads only files that the chart ships', () => {
    const used = templates().flatMap(({ text }) =>
      [...text.matchAll(/\.Files\.Get\s+"([^"]+)"/g)].map((m) => m[1] ?? ''),
    );
    expect(used).toContain('files/alerts.yml');
    for (const file of used) expect(existsSync(join(REPO_ROOT, CHART, file))).toBe(true);
  });

  it('links to the alert rules and dashboards in deploy/ rather than carrying copies', () => {
    for (const [link, target] of [
      ['files/alerts.yml', ALERTS_FILE],
      ['files/dashboards', DASHBOARDS_DIR],
    ] as const) {
      expect(lstatSync(join(REPO_ROOT, CHART, link)).isSymbolicLink()).toBe(true);
      expect(realpathSync(join(REPO_ROOT, CHART, link))).toBe(realpathSync(join(REPO_ROOT, target)));
    }
  });

  it('ships the alert rules of deploy/prometheus/alerts.yml unchanged', () => {
    expect(
      readFileSync(join(REPO_ROOT, CHART, 'files/alerts.yml')).equals(
        readFileSync(join(REPO_ROOT, ALERTS_FILE)),
      ),
    ).toBe(true);
  });

  it('ships the dashboards of deploy/grafana/dashboards unchanged', () => {
    const source = readdirSync(join(REPO_ROOT, DASHBOARDS_DIR)).sort();
    expect(readdirSync(join(REPO_ROOT, CHART, 'files/dashboards')).sort()).toEqual(source);
    for (const file of source) {
      expect(
        readFileSync(join(REPO_ROOT, CHART, 'files/dashboards', file)).equals(
          readFileSync(join(REPO_ROOT, DASHBOARDS_DIR, file)),
        ),
      ).toBe(true);
    }
  });
});
