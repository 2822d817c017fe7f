import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { isMap, isScalar, parse, parseDocument, type YAMLMap } from 'yaml';

/**
 * helm/herald/README.md from Chart.yaml and values.yaml (its comments are the descriptions).
 * Hand-written: helm-docs, the usual generator, is a Go binary with no npm package.
 * `npm run chart:readme` writes it; test/deploy/helm-readme.spec.ts checks it is current.
 */
export const CHART_README = 'helm/herald/README.md';

interface Row {
  key: string;
  value: string;
  description: string;
}

function commentText(comment: string | null | undefined): string {
  return (comment ?? '')
    .split('\n')
    .map((line) => line.trim())
    .join(' ')
    .trim();
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function defaultOf(value: unknown): string {
  return `\`${JSON.stringify(value ?? null)}\``;
}

/**
 * One row per leaf (a scalar, a list or an empty map) and per commented map. The yaml parser
 * stores a comment before the first key of a map on the map itself.
 */
function rows(map: YAMLMap, prefix: string, plain: Record<string, unknown>): Row[] {
  const out: Row[] = [];
  map.items.forEach((pair, index) => {
    const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const key = `${prefix}${name}`;
    const keyNode = pair.key as { commentBefore?: string | null };
    const description = commentText(
      index === 0 ? (map.commentBefore ?? keyNode.commentBefore) : keyNode.commentBefore,
    );
    const value = plain[name];
    if (isMap(pair.value) && pair.value.items.length > 0) {
      if (description) out.push({ key, value: '', description });
      out.push(...rows(pair.value, `${key}.`, value as Record<string, unknown>));
    } else {
      out.push({ key, value: defaultOf(value), description });
    }
  });
  return out;
}

function intro(chart: { name: string; description: string; version: string; appVersion: string }): string {
  return `# ${chart.name}

${chart.description}

Chart ${chart.version}, app ${chart.appVersion}. Requires Kubernetes 1.25 or later.

## Install

\`\`\`sh
kubectl create namespace herald
helm install herald ./helm/herald -n herald \\
  --set secret.databaseUrl=postgres://… --set secret.redisUrl=redis://… \\
  --set secret.adminKey=… --set secret.encryptionKey=k1:$(openssl rand -hex 32)
helm test herald -n herald   # a Pod calls the api's /ready through its Service
\`\`\`

Or keep the four secrets in a Secret of your own (External Secrets, sealed-secrets…) and set
\`secret.existingSecret\`. Migrations run as a pre-install/pre-upgrade hook Job.

- **Values are checked**: \`values.schema.json\` makes helm refuse a misspelt key, a wrong type or
  an out-of-range value, naming its path, before anything is rendered.
- **Worker autoscaling**: with \`worker.keda.enabled\` and KEDA's CRDs in the cluster, a
  ScaledObject scales the workers on queue depth and holds \`worker.keda.fallback.replicas\` when its
  Prometheus query fails; without the CRDs (or with KEDA disabled) a CPU HorizontalPodAutoscaler
  (\`worker.hpa\`) does.
- **Tracing**: \`otel.endpoint\` reaches every role as \`OTEL_EXPORTER_OTLP_ENDPOINT\`.
- **Alerts and dashboards**: \`files/alerts.yml\` and \`files/dashboards\` link to \`deploy/\`, so
  the PrometheusRule and the dashboards ConfigMap always carry the current rules and dashboards.

CI runs \`helm lint --strict\` and \`helm template\` over the values sets in \`ci/\` and validates
every rendered object against the Kubernetes and CRD schemas (\`test/deploy/helm-render.spec.ts\`).

## Values
`;
}

export async function renderChartReadme(root: string): Promise<string> {
  const chart = parse(readFileSync(join(root, 'helm/herald/Chart.yaml'), 'utf8')) as {
    name: string;
    description: string;
    version: string;
    appVersion: string;
  };
  const valuesText = readFileSync(join(root, 'helm/herald/values.yaml'), 'utf8');
  const document = parseDocument(valuesText);
  if (!isMap(document.contents)) throw new Error('helm/herald/values.yaml: not a map');
  const table = [
    '| Key | Default | Description |',
    '| --- | --- | --- |',
    ...rows(document.contents, '', parse(valuesText) as Record<string, unknown>).map(
      (row) => `| \`${row.key}\` | ${cell(row.value)} | ${cell(row.description)} |`,
    ),
  ].join('\n');
  const markdown = `${intro(chart)}
${commentText(document.commentBefore)}

${table}

_Generated from \`values.yaml\` and its comments by \`npm run chart:readme\` (scripts/chart-readme)._
`;
  const file = join(root, CHART_README);
  return format(markdown, { ...(await resolveConfig(file)), filepath: file });
}
