import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CHART_README, renderChartReadme } from '../../scripts/chart-readme/render';
import { isObject, readRepoFile, REPO_ROOT } from './metric-names';

function leafKeys(value: unknown, prefix = ''): string[] {
  if (!isObject(value) || Object.keys(value).length === 0) return [prefix.slice(0, -1)];
  return Object.entries(value).flatMap(([key, child]) => leafKeys(child, `${prefix}${key}.`));
}

describe('helm/herald/README.md', () => {
  it('is what `npm run chart:readme` generates from values.yaml (run it after changing values)', async () => {
    const committed = readFileSync(join(REPO_ROOT, CHART_README), 'utf8');
    expect(committed).toBe(await renderChartReadme(REPO_ROOT));
  });

  it('lists every value with its default and carries the comments as descriptions', async () => {
    const readme = await renderChartReadme(REPO_ROOT);
    for (const key of leafKeys(parse(readRepoFile('helm/herald/values.yaml')))) {
      expect(readme).toMatch(new RegExp(`^\\| \`${key.replace(/\./g, '\\.')}\` +\\| \``, 'm'));
    }
    expect(readme).toMatch(/^\| `worker\.keda\.fallback\.replicas` +\| `4` +\| +\|$/m);
    expect(readme).toMatch(/^\| `api\.replicas` +\| `2` +\| Ignored while api\.hpa\.enabled\. +\|$/m);
    // A `|` inside a default stays inside its cell.
    expect(readme).toContain('waiting\\|prioritized');
  });
});
