import { parse } from 'yaml';
import { ALERTS_FILE, isObject, readRepoFile, ruleGroups } from './metric-names';

const RUNBOOK_URL = /^https:\/\/github\.com\/herald-dev\/herald\/blob\/main\/docs\/runbook\.md#([\w-]+)$/;
const SEVERITIES = ['critical', 'warning', 'info'];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function githubAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!heading?.[1]) continue;
    const slug = heading[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

describe('deploy/prometheus/alerts.yml', () => {
  const { alerts } = ruleGroups();
  const anchors = githubAnchors(readRepoFile('docs/runbook.md'));

  it('has alerts, each named once', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(15);
    const names = alerts.map((a) => a.alert);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(alerts.map((a) => [a.alert, a] as const))(
    '%s has a severity, a summary, a description and a runbook section',
    (_name, alert) => {
      expect(SEVERITIES).toContain(alert.labels.severity);
      expect(alert.annotations.summary?.trim()).toBeTruthy();
      expect(alert.annotations.description?.trim()).toBeTruthy();
      const anchor = RUNBOOK_URL.exec(alert.annotations.runbook_url ?? '')?.[1];
      expect(anchor).toBe(alert.alert.toLowerCase());
      expect(anchors.has(anchor ?? '')).toBe(true);
    },
  );

  it('has a promtool test where each alert fires', () => {
    const doc: unknown = parse(readRepoFile('deploy/prometheus/alerts.test.yml'));
    expect(isObject(doc) && Array.isArray(doc.rule_files) && doc.rule_files).toEqual([
      ALERTS_FILE.split('/').pop(),
    ]);
    const tests = isObject(doc) && Array.isArray(doc.tests) ? (doc.tests as unknown[]) : [];
    const firing = new Set<string>();
    const quiet = new Set<string>();
    for (const test of tests) {
      const cases =
        isObject(test) && Array.isArray(test.alert_rule_test) ? (test.alert_rule_test as unknown[]) : [];
      for (const c of cases) {
        if (!isObject(c) || typeof c.alertname !== 'string') continue;
        (Array.isArray(c.exp_alerts) && c.exp_alerts.length > 0 ? firing : quiet).add(c.alertname);
      }
    }
    expect(alerts.map((a) => a.alert).filter((name) => !firing.has(name))).toEqual([]);
    expect(quiet.size).toBeGreaterThanOrEqual(5);
  });
});

describe('alert rules with many releases in one Prometheus', () => {
  const { alerts, records } = ruleGroups();
  const rules = [
    ...alerts.map((a) => [a.alert, a.expr] as const),
    ...records.map((r) => [r.record, r.expr] as const),
  ];

  it.each(rules)(
    '%s keeps namespace and release in every aggregation (a rule without one keeps every label)',
    (_name, expr) => {
      const aggregations = [...expr.matchAll(/\b(sum|max|min|avg|count)\s*(by\s*\(([^)]*)\))?\s*\(/g)];
      for (const m of aggregations) {
        const labels = (m[3] ?? '').split(',').map((l) => l.trim());
        expect(labels).toEqual(expect.arrayContaining(['namespace', 'release']));
      }
      for (const m of expr.matchAll(/\bon\s*\(([^)]*)\)/g))
        expect(m[1]!.split(',').map((l) => l.trim())).toEqual(['namespace', 'release']);
    },
  );

  it('alerts on the quota fallback and on a saturated Postgres pool', () => {
    const byName = new Map(alerts.map((a) => [a.alert, a]));
    expect(byName.get('HeraldQuotaFallback')?.expr).toContain('herald_quota_backend{backend="postgres"}');
    expect(byName.get('HeraldDatabasePoolSaturated')?.expr).toContain(
      'herald_db_pool_connections{state="waiting"}',
    );
  });
});

describe('githubAnchors', () => {
  it('follows GitHub: punctuation dropped, spaces to hyphens, repeats numbered, code ignored', () => {
    const anchors = githubAnchors(
      '# Herald runbook\n## Deploy and roll back\n```sh\n# not a heading\n```\n### HeraldApiDown\n## Rotate API keys & the `encryption` key\n## Deploy and roll back\n',
    );
    expect([...anchors]).toEqual([
      'herald-runbook',
      'deploy-and-roll-back',
      'heraldapidown',
      'rotate-api-keys--the-encryption-key',
      'deploy-and-roll-back-1',
    ]);
  });
});
