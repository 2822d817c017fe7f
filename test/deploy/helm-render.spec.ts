import { parse } from 'yaml';
import { ALERTS_FILE, readRepoFile } from './metric-names';
import {
  CHART_DIR,
  type Finding,
  helm,
  installNotes,
  type Manifest,
  parseManifests,
  template,
  validateManifests,
  VALUES_SETS,
  valuesArgs,
} from './helm-tools';

interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  containers: Container[];
  volumes?: { name: string }[];
}

/** The pod template of a workload (the schema check vouches for the shape). */
function podSpec(doc: Manifest): PodSpec {
  const spec = doc.spec as { template?: { spec: PodSpec } } & PodSpec;
  return doc.kind === 'Pod' ? spec : spec.template!.spec;
}

function spec<T>(doc: Manifest): T {
  return doc.spec as T;
}

const rendered = new Map<string, Manifest[]>();
const findings = new Map<string, Finding[]>();

function docs(setName: string): Manifest[] {
  const found = rendered.get(setName);
  if (!found) throw new Error(`values set ${setName} was not rendered`);
  return found;
}

function find(setName: string, kind: string, name?: string): Manifest[] {
  return docs(setName).filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
}

function one(setName: string, kind: string, name: string): Manifest {
  const [doc, ...more] = find(setName, kind, name);
  if (!doc || more.length) throw new Error(`${setName}: expected one ${kind}/${name}`);
  return doc;
}

const DEFAULTS = 'defaults';
const FULL = 'full (KEDA asked for, CRDs absent)';
const PRODUCTION = 'production (KEDA, ingress, tracing)';
const EXTERNAL = 'external secrets';
const SECOND = 'second release in another namespace';

// Render each values set once and validate every manifest in one child process.
beforeAll(() => {
  for (const set of VALUES_SETS) {
    const result = template(set);
    if (result.status !== 0) throw new Error(`helm template (${set.name}) failed: ${result.stderr}`);
    rendered.set(set.name, parseManifests(result.stdout));
  }
  const all = VALUES_SETS.flatMap((set) => docs(set.name));
  const results = validateManifests(all);
  let offset = 0;
  for (const set of VALUES_SETS) {
    const count = docs(set.name).length;
    findings.set(set.name, results.slice(offset, offset + count));
    offset += count;
  }
});

describe('helm/herald over the CI values sets', () => {
  it.each(VALUES_SETS.map((set) => [set.name, set] as const))(
    'helm lint --strict passes: %s',
    (_name, set) => {
      const result = helm(['lint', '--strict', CHART_DIR, ...valuesArgs(set)]);
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(result.status).toBe(0);
    },
  );

  it.each(VALUES_SETS.map((set) => [set.name] as const))(
    'every manifest passes its Kubernetes or CRD schema: %s',
    (name) => {
      expect(docs(name).length).toBeGreaterThan(15);
      expect((findings.get(name) ?? []).filter((f) => f.errors.length > 0)).toEqual([]);
    },
  );

  it('the schema check catches a broken manifest (so a pass above means something)', () => {
    const api = structuredClone(one(DEFAULTS, 'Deployment', 'herald-api'));
    const pod = spec<{ selector?: unknown; template: { spec: Record<string, unknown> } }>(api);
    delete pod.selector;
    const container = (pod.template.spec.containers as Record<string, unknown>[])[0]!;
    container.imagePullPolicy = 'Sometimes';
    container.ports = [{ name: 'http', containerPort: 'http' }];
    container.readinesProbe = container.readinessProbe;
    (container.resources as Record<string, unknown>).limts = { memory: '1Gi' };
    const service = structuredClone(one(DEFAULTS, 'Service', 'herald-api'));
    service.metadata.name = `herald-${'x'.repeat(60)}`;
    (service.metadata as Record<string, unknown>).labelz = { misplaced: 'yes' };
    const scaled = structuredClone(one(PRODUCTION, 'ScaledObject', 'herald-worker-delivery'));
    spec<{ fallback: Record<string, unknown> }>(scaled).fallback.replicas = 'six';
    spec<Record<string, unknown>>(scaled).fallbak = {};
    const unknownKind = { ...structuredClone(service), apiVersion: 'example.com/v1', kind: 'Widget' };

    const [deployment, svc, keda, widget] = validateManifests([api, service, scaled, unknownKind]);
    expect(deployment!.errors).toEqual(
      expect.arrayContaining([
        '/spec must have required property selector',
        '/spec/template/spec/containers/0/imagePullPolicy must be equal to one of the allowed values (Always, IfNotPresent, Never)',
        '/spec/template/spec/containers/0/ports/0/containerPort must be integer',
        '/spec/template/spec/containers/0 has unknown field "readinesProbe"',
        '/spec/template/spec/containers/0/resources has unknown field "limts"',
      ]),
    );
    expect(svc!.errors.join('\n')).toContain('is not a valid DNS label');
    expect(svc!.errors).toContain('/metadata has unknown field "labelz"');
    expect(keda!.errors).toEqual(
      expect.arrayContaining([
        '/spec/fallback/replicas must be integer',
        '/spec has unknown field "fallbak"',
      ]),
    );
    expect(widget!.errors).toContain('no schema for example.com/v1 Widget');
  });
});

describe('helm/herald features', () => {
  it('every pod runs as the release ServiceAccount, which mounts no token', () => {
    const account = one(DEFAULTS, 'ServiceAccount', 'herald');
    expect(account.automountServiceAccountToken).toBe(false);
    for (const deployment of find(DEFAULTS, 'Deployment')) {
      expect(podSpec(deployment).serviceAccountName).toBe('herald');
      expect(podSpec(deployment).automountServiceAccountToken).toBe(false);
    }
    expect(one(PRODUCTION, 'ServiceAccount', 'herald').metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/herald',
    });
    // serviceAccount.create=false: the named existing account, none rendered.
    expect(find(EXTERNAL, 'ServiceAccount')).toEqual([]);
    for (const deployment of find(EXTERNAL, 'Deployment')) {
      expect(podSpec(deployment).serviceAccountName).toBe('herald-workload');
    }
  });

  it('`helm test` runs a Pod of the release image that calls /ready on the api Service', () => {
    const test = one(DEFAULTS, 'Pod', 'herald-test-ready');
    expect(test.metadata.annotations?.['helm.sh/hook']).toBe('test');
    const [container] = podSpec(test).containers;
    const api = podSpec(one(DEFAULTS, 'Deployment', 'herald-api')).containers[0]!;
    expect(container!.image).toBe(api.image);
    const service = spec<{ ports: { name: string; port: number }[] }>(one(DEFAULTS, 'Service', 'herald-api'));
    const port = service.ports.find((p) => p.name === 'http')!.port;
    expect(container!.command?.at(-1)).toBe(`http://herald-api:${port}/ready`);
    expect(container!.command?.slice(0, 2)).toEqual(['node', '-e']);
  });

  it('the api NetworkPolicy admits the test Pod when networkPolicy.apiFrom narrows the public port', () => {
    const policy = spec<{
      ingress: { from?: { podSelector?: { matchLabels: Record<string, string> } }[] }[];
    }>(one(PRODUCTION, 'NetworkPolicy', 'herald-api'));
    const testLabels = one(PRODUCTION, 'Pod', 'herald-test-ready').metadata.labels ?? {};
    const selectors = policy.ingress[0]!.from!.flatMap((peer) =>
      peer.podSelector ? [peer.podSelector] : [],
    );
    expect(selectors).toHaveLength(1);
    for (const [key, value] of Object.entries(selectors[0]!.matchLabels)) expect(testLabels[key]).toBe(value);
  });

  it('worker pools scale with KEDA (with fallback replicas) where its CRDs exist, with a CPU HPA otherwise', () => {
    const scaledObject = one(PRODUCTION, 'ScaledObject', 'herald-worker-delivery');
    expect(spec<{ fallback: unknown }>(scaledObject).fallback).toEqual({ failureThreshold: 5, replicas: 6 });
    // The sourcing pool's own fallback replicas win over worker.keda's; the rest is inherited.
    expect(
      spec<{ fallback: unknown }>(one(PRODUCTION, 'ScaledObject', 'herald-worker-sourcing')).fallback,
    ).toEqual({
      failureThreshold: 5,
      replicas: 2,
    });
    expect(find(PRODUCTION, 'HorizontalPodAutoscaler').map((d) => d.metadata.name)).toEqual(['herald-api']);

    for (const setName of [DEFAULTS, FULL]) {
      expect(find(setName, 'ScaledObject')).toEqual([]);
      for (const [pool, min, max] of [
        ['delivery', 2, 10],
        ['sourcing', 1, 4],
      ] as const) {
        const hpa = spec<{ scaleTargetRef: { name: string }; minReplicas: number; maxReplicas: number }>(
          one(setName, 'HorizontalPodAutoscaler', `herald-worker-${pool}`),
        );
        expect(hpa).toMatchObject({
          scaleTargetRef: { name: `herald-worker-${pool}` },
          minReplicas: min,
          maxReplicas: max,
        });
      }
    }
    // Whoever scales the workers owns the replica count; without an autoscaler, the values do.
    for (const setName of [DEFAULTS, FULL, PRODUCTION]) {
      for (const pool of ['delivery', 'sourcing']) {
        expect(
          spec<{ replicas?: number }>(one(setName, 'Deployment', `herald-worker-${pool}`)).replicas,
        ).toBeUndefined();
      }
    }
    // A renderer that cannot see the cluster (GitOps) vouches for the CRDs itself.
    const vouched = template(
      VALUES_SETS.find((set) => set.name === FULL)!,
      ['--set', 'worker.keda.skipCapabilitiesCheck=true'],
    );
    const kinds = parseManifests(vouched.stdout)
      .filter((d) => d.metadata.name === 'herald-worker-delivery')
      .map((d) => d.kind);
    expect(kinds).toContain('ScaledObject');
    expect(kinds).not.toContain('HorizontalPodAutoscaler');

    expect(find(EXTERNAL, 'HorizontalPodAutoscaler')).toEqual([]);
    // worker.replicas is every pool's default; the sourcing pool sets its own.
    expect(spec<{ replicas?: number }>(one(EXTERNAL, 'Deployment', 'herald-worker-delivery')).replicas).toBe(
      4,
    );
    expect(spec<{ replicas?: number }>(one(EXTERNAL, 'Deployment', 'herald-worker-sourcing')).replicas).toBe(
      1,
    );
    expect(spec<{ replicas?: number }>(one(EXTERNAL, 'Deployment', 'herald-api')).replicas).toBe(3);
  });

  it('the install notes say who scales the workers, and why KEDA did not', () => {
    const notes = installNotes(VALUES_SETS.find((set) => set.name === FULL)!);
    expect(notes).toContain('worker  herald-worker-delivery (HPA 2-10): system,runs,deliveries');
    expect(notes).toContain('worker  herald-worker-sourcing (HPA 1-4): sourcing');
    expect(notes).toContain(
      'keda.enabled is set for the delivery, sourcing worker pools but the cluster serves no keda.sh/v1alpha1 ScaledObject: they scale as listed above instead (the CPU HPA where hpa.enabled, else replicas).',
    );
    expect(notes).toContain('helm test herald -n herald');
    expect(notes).toContain('Ingress: http://herald.example.com');
  });

  it('the Ingress routes its hosts to the api Service http port, with TLS', () => {
    expect(find(DEFAULTS, 'Ingress')).toEqual([]);
    const ingress = spec<{
      ingressClassName: string;
      tls: { secretName: string; hosts: string[] }[];
      rules: {
        host: string;
        http: { paths: { path: string; backend: { service: { name: string; port: { name: string } } } }[] };
      }[];
    }>(one(PRODUCTION, 'Ingress', 'herald-api'));
    expect(ingress.ingressClassName).toBe('nginx');
    expect(ingress.tls).toEqual([{ secretName: 'herald-api-tls', hosts: ['api.herald.example.com'] }]);
    expect(ingress.rules.map((r) => r.host)).toEqual(['api.herald.example.com']);
    const backend = ingress.rules[0]!.http.paths[0]!.backend.service;
    const service = spec<{ ports: { name: string }[] }>(one(PRODUCTION, 'Service', backend.name));
    expect(service.ports.map((p) => p.name)).toContain(backend.port.name);
    expect(backend.port.name).toBe('http');
  });

  it('otel.endpoint reaches every role as OTEL_EXPORTER_OTLP_ENDPOINT, and is absent when empty', () => {
    const data = (setName: string): Record<string, string> =>
      one(setName, 'ConfigMap', 'herald').data as Record<string, string>;
    expect(data(PRODUCTION).OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://tempo.monitoring.svc:4318');
    expect(data(DEFAULTS)).not.toHaveProperty('OTEL_EXPORTER_OTLP_ENDPOINT');
    for (const deployment of find(PRODUCTION, 'Deployment')) {
      const sources = podSpec(deployment).containers[0]!.envFrom ?? [];
      expect(sources.map((s) => s.configMapRef?.name)).toContain('herald');
    }
  });

  it('extra env, envFrom, volumes and mounts reach every role and the migrations Job; an existing Secret replaces the rendered one', () => {
    expect(find(EXTERNAL, 'Secret')).toEqual([]);
    const workloads = [...find(EXTERNAL, 'Deployment'), ...find(EXTERNAL, 'Job')];
    expect(workloads.map((w) => w.metadata.name).sort()).toEqual([
      'herald-api',
      'herald-beat',
      'herald-migrate',
      'herald-worker-delivery',
      'herald-worker-sourcing',
    ]);
    for (const workload of workloads) {
      const pod = podSpec(workload);
      const container = pod.containers[0]!;
      const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e]));
      expect(env.PGSSLROOTCERT?.value).toBe('/etc/herald/ca/ca.crt');
      expect(env.HERALD_ENCRYPTION_PREVIOUS_KEYS?.valueFrom).toEqual({
        secretKeyRef: { name: 'herald-key-ring', key: 'previous', optional: true },
      });
      expect((container.envFrom ?? []).map((s) => s.secretRef?.name)).toContain('herald-smtp-relay');
      expect(pod.volumes?.map((v) => v.name)).toContain('db-ca');
      expect(container.volumeMounts).toContainEqual({
        name: 'db-ca',
        mountPath: '/etc/herald/ca',
        readOnly: true,
      });
    }
    const migrate = podSpec(one(EXTERNAL, 'Job', 'herald-migrate')).containers[0]!;
    expect(migrate.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom).toEqual({
      secretKeyRef: { name: 'herald-external', key: 'DATABASE_URL' },
    });
    for (const deployment of find(EXTERNAL, 'Deployment')) {
      const sources = podSpec(deployment).containers[0]!.envFrom ?? [];
      expect(sources.map((s) => s.secretRef?.name)).toContain('herald-external');
    }
  });

  it('a second release in another namespace shares no name with the first and scales on its own queue', () => {
    const names = (setName: string): Set<string> =>
      new Set(docs(setName).map((d) => `${d.kind}/${d.metadata.name}`));
    const first = names(PRODUCTION);
    expect([...names(SECOND)].filter((name) => first.has(name))).toEqual([]);

    const query = spec<{ triggers: { metadata: { query: string } }[] }>(
      one(SECOND, 'ScaledObject', 'outreach-eu-herald-worker-delivery'),
    ).triggers[0]!.metadata.query;
    expect(query).toContain('namespace="tenant-eu"');
    const monitor = spec<{
      namespaceSelector: { matchNames: string[] };
      selector: { matchLabels: Record<string, string> };
      endpoints: { relabelings: { targetLabel: string; replacement: string }[] }[];
    }>(one(SECOND, 'ServiceMonitor', 'outreach-eu-herald'));
    expect(monitor.namespaceSelector.matchNames).toEqual(['tenant-eu']);
    // The rules and dashboards group by release: every scraped series carries it.
    expect(monitor.endpoints[0]!.relabelings).toEqual([
      { targetLabel: 'release', replacement: 'outreach-eu' },
    ]);
    expect(monitor.selector.matchLabels['app.kubernetes.io/instance']).toBe('outreach-eu');
    const selector = spec<{ selector: { matchLabels: Record<string, string> } }>(
      one(SECOND, 'Deployment', 'outreach-eu-herald-api'),
    ).selector.matchLabels;
    expect(selector['app.kubernetes.io/instance']).toBe('outreach-eu');
  });

  it('the PrometheusRule carries the rules of deploy/prometheus/alerts.yml as they are now', () => {
    const rules = one(PRODUCTION, 'PrometheusRule', 'herald');
    expect(spec<{ groups: unknown }>(rules).groups).toEqual(
      (parse(readRepoFile(ALERTS_FILE)) as { groups: unknown }).groups,
    );
  });
});
