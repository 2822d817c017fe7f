import { roleNodeFlags } from '@herald/config';
import { QUEUE_NAMES } from '@herald/queues';
import { parse } from 'yaml';
import { runEntrypoint, v8HeapLimitMb, type EntrypointRun } from './entrypoint';
import { readFlyToml } from './fly-toml';
import { type Manifest, parseManifests, template, VALUES_SETS } from './helm-tools';
import { ALERTS_FILE, readRepoFile } from './metric-names';

/**
 * Workers run as pools: by default a lean delivery pool (every queue but sourcing, so the
 * entrypoint caps its old generation) and a sourcing pool, in the chart, fly.toml and compose.
 * Each pool's process is run through the real entrypoint (node swapped for a printer).
 */

const OLD_SPACE = /--max-old-space-size=(\d+)/;
const DELIVERY_QUEUES = QUEUE_NAMES.filter((q) => q !== 'sourcing');
/** Beyond V8's heap: code, stacks, Buffers and sockets outside it (measured RSS 186–193 MB against a 152 MB heap). */
const NATIVE_HEADROOM_MB = 64;

interface Container {
  args?: string[];
  env?: { name: string; value?: string }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface Workload {
  selector: { matchLabels: Record<string, string> };
  template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } };
}
type Labels = Record<string, string>;

function spec<T>(doc: Manifest): T {
  return doc.spec as T;
}

/** Kubernetes quantities as MiB (binary and decimal suffixes). */
function mebibytes(quantity: string | undefined): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(quantity ?? '');
  if (!match) throw new Error(`not a memory quantity: ${quantity}`);
  const bytes: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    '': 1,
  };
  return (Number(match[1]) * bytes[match[2] ?? '']!) / 2 ** 20;
}

function matches(selector: Labels, labels: Labels): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

function render(setName: string, extra: readonly string[] = []): Manifest[] {
  const set = VALUES_SETS.find((s) => s.name === setName)!;
  const result = template(set, extra);
  if (result.status !== 0) throw new Error(`helm template (${setName}) failed: ${result.stderr}`);
  return parseManifests(result.stdout);
}

function workers(docs: Manifest[]): Manifest[] {
  return docs.filter(
    (d) => d.kind === 'Deployment' && d.metadata.labels?.['app.kubernetes.io/component'] === 'worker',
  );
}

/** The pod's WORKER_QUEUES as the chart sets it (undefined: not set). */
function workerQueues(deployment: Manifest): string | undefined {
  const container = spec<Workload>(deployment).template.spec.containers[0]!;
  return container.env?.find((e) => e.name === 'WORKER_QUEUES')?.value;
}

function queueList(queues: string | undefined): string[] {
  return (queues ?? '').split(',').filter(Boolean);
}

/** The pod's container started through the entrypoint with its args and WORKER_QUEUES. */
function startPod(deployment: Manifest): EntrypointRun {
  const container = spec<Workload>(deployment).template.spec.containers[0]!;
  const queues = workerQueues(deployment);
  return runEntrypoint(container.args ?? [], queues === undefined ? {} : { WORKER_QUEUES: queues });
}

function memoryLimitMb(deployment: Manifest): number {
  return mebibytes(spec<Workload>(deployment).template.spec.containers[0]!.resources?.limits?.memory);
}

/** Every queue the given pools consume (a pool with no queues consumes every queue). */
function union(pools: readonly string[][]): string[] {
  return [...new Set(pools.flatMap((q) => (q.length ? q : [...QUEUE_NAMES])))].sort();
}

describe('worker pools in the Helm chart', () => {
  const defaults = render('defaults');
  const byName = (name: string) => workers(defaults).find((d) => d.metadata.name === name)!;

  it('renders a delivery and a sourcing worker Deployment that together consume every queue', () => {
    expect(workers(defaults).map((d) => d.metadata.name)).toEqual([
      'herald-worker-delivery',
      'herald-worker-sourcing',
    ]);
    expect(queueList(workerQueues(byName('herald-worker-delivery')))).toEqual(DELIVERY_QUEUES);
    expect(workerQueues(byName('herald-worker-sourcing'))).toBe('sourcing');
    expect(union(workers(defaults).map((d) => queueList(workerQueues(d))))).toEqual([...QUEUE_NAMES].sort());
  });

  it('the delivery pool starts lean through the entrypoint and its memory limit holds that heap', () => {
    const delivery = byName('herald-worker-delivery');
    const run = startPod(delivery);
    expect(run.argv[0]).toBe('/app/dist/apps/worker/src/main.js');
    expect(run.nodeOptions.trim()).toBe(roleNodeFlags('worker', workerQueues(delivery)).join(' '));
    expect(OLD_SPACE.exec(run.nodeOptions)?.[1]).toBe('104');
    const heap = v8HeapLimitMb(run.nodeOptions);
    expect(heap).toBeLessThan(200);
    expect(memoryLimitMb(delivery)).toBeGreaterThanOrEqual(heap + NATIVE_HEADROOM_MB);
    // Lean: no more than the 200 MB target plus headroom.
    expect(memoryLimitMb(delivery)).toBeLessThanOrEqual(200 + NATIVE_HEADROOM_MB);
  });

  it('the sourcing pool keeps V8 sizing, with more memory than the delivery pool', () => {
    const sourcing = byName('herald-worker-sourcing');
    const run = startPod(sourcing);
    expect(run.nodeOptions).not.toMatch(OLD_SPACE);
    expect(run.workerQueues).toBe('sourcing');
    // A sourcing worker peaked near 450 MB RSS in docs/benchmarks.md.
    expect(memoryLimitMb(sourcing)).toBeGreaterThanOrEqual(512);
    expect(memoryLimitMb(sourcing)).toBeGreaterThan(2 * memoryLimitMb(byName('herald-worker-delivery')));
  });

  it('each pool has its own autoscaler and disruption budget; the ops Service and NetworkPolicy cover every pool', () => {
    const pods = workers(defaults).map((d) => spec<Workload>(d).template.metadata.labels);
    for (const deployment of workers(defaults)) {
      const own = spec<Workload>(deployment).template.metadata.labels;
      const { name } = deployment.metadata;
      // A pool's Deployment selects only its own pods.
      const selected = pods.filter((labels) =>
        matches(spec<Workload>(deployment).selector.matchLabels, labels),
      );
      expect(selected).toEqual([own]);
      const hpa = defaults.find((d) => d.kind === 'HorizontalPodAutoscaler' && d.metadata.name === name);
      expect(spec<{ scaleTargetRef: { name: string } }>(hpa!).scaleTargetRef.name).toBe(name);
      const pdb = defaults.find((d) => d.kind === 'PodDisruptionBudget' && d.metadata.name === name);
      const budget = spec<{ selector: { matchLabels: Labels } }>(pdb!).selector.matchLabels;
      expect(pods.filter((labels) => matches(budget, labels))).toEqual([own]);
    }
    const ops = defaults.find((d) => d.kind === 'Service' && d.metadata.name === 'herald-worker-ops')!;
    // The ServiceMonitor turns this label into the job the alert rules and dashboards use.
    expect(ops.metadata.labels?.['herald.dev/job']).toBe('herald-worker');
    const opsSelector = spec<{ selector: Labels }>(ops).selector;
    expect(pods.every((labels) => matches(opsSelector, labels))).toBe(true);
    const policy = defaults.find((d) => d.kind === 'NetworkPolicy' && d.metadata.name === 'herald-worker')!;
    const podSelector = spec<{ podSelector: { matchLabels: Labels } }>(policy).podSelector.matchLabels;
    expect(pods.every((labels) => matches(podSelector, labels))).toBe(true);
    expect(readRepoFile(ALERTS_FILE)).toContain('up{job="herald-worker"}');
  });

  it('KEDA scales each pool on the depth of its own queues', () => {
    const production = render('production (KEDA, ingress, tracing)');
    const scaled = production.filter((d) => d.kind === 'ScaledObject');
    expect(scaled.map((d) => d.metadata.name)).toEqual(['herald-worker-delivery', 'herald-worker-sourcing']);
    for (const object of scaled) {
      const query = spec<{ triggers: { metadata: { query: string } }[] }>(object).triggers[0]!.metadata.query;
      const pattern = /queue=~"([^"]+)"/.exec(query)?.[1];
      const deployment = workers(production).find((d) => d.metadata.name === object.metadata.name)!;
      // Prometheus anchors a label regex at both ends.
      const scaledOn = QUEUE_NAMES.filter((q) => new RegExp(`^(?:${pattern})$`).test(q));
      expect(scaledOn).toEqual(queueList(workerQueues(deployment)));
    }
  });

  it('the single-pool override renders one worker on every queue, without the heap cap', () => {
    const single = workers(render('one worker pool on every queue'));
    expect(single.map((d) => d.metadata.name)).toEqual(['herald-worker-all']);
    expect(workerQueues(single[0]!)).toBe('');
    expect(startPod(single[0]!).nodeOptions).not.toMatch(OLD_SPACE);
    // docs/deploy.md shows the same override.
    const ci = parse(readRepoFile('helm/herald/ci/single-pool-values.yaml')) as { worker: unknown };
    const documented = [...readRepoFile('docs/deploy.md').matchAll(/```yaml\n([\s\S]*?)```/g)].map(
      (m) => parse(m[1]!) as unknown,
    );
    expect(documented).toContainEqual({ worker: ci.worker });
  });

  it('refuses pools that leave a queue unconsumed, or name a queue the code does not define', () => {
    const orphan = template(VALUES_SETS[0]!, ['--set', 'worker.pools.sourcing=null']);
    expect(orphan.status).not.toBe(0);
    expect(orphan.stderr).toContain('worker.pools: no pool consumes the sourcing queue');
    const misspelt = template(VALUES_SETS[0]!, ['--set', 'worker.pools.sourcing.queues={sourcin}']);
    expect(misspelt.status).not.toBe(0);
    expect(misspelt.stderr).toContain("at '/worker/pools/sourcing/queues/0'");
  });

  it('knows the queues the code defines, in its schema and its coverage check', () => {
    const schema = JSON.parse(readRepoFile('helm/herald/values.schema.json')) as {
      definitions: { queue: { enum: string[] } };
    };
    expect(schema.definitions.queue.enum).toEqual([...QUEUE_NAMES]);
    const helper = /define "herald\.queues" -\}\}\n(.*)\n/.exec(
      readRepoFile('helm/herald/templates/_helpers.tpl'),
    );
    expect(helper?.[1]?.split(',')).toEqual([...QUEUE_NAMES]);
  });
});

describe('worker pools on fly.io', () => {
  const fly = readFlyToml();
  const processes = fly.processes as Record<string, string>;
  const workerGroups = Object.entries(processes).filter(([, command]) => command.split(' ')[0] === 'worker');
  const start = (group: string) => runEntrypoint(processes[group]!.split(' '));
  const vmMb = (group: string) => {
    const vm = (fly.vm as { processes: string[]; memory: string }[]).find((v) => v.processes.includes(group));
    return mebibytes(vm?.memory.replace(/mb$/, 'Mi').replace(/gb$/, 'Gi'));
  };

  it('runs a lean delivery group `worker` and a `sourcing` group that together consume every queue', () => {
    expect(workerGroups.map(([group]) => group)).toEqual(['worker', 'sourcing']);
    expect(queueList(start('worker').workerQueues)).toEqual(DELIVERY_QUEUES);
    expect(start('sourcing').workerQueues).toBe('sourcing');
    expect(union(workerGroups.map(([group]) => queueList(start(group).workerQueues)))).toEqual(
      [...QUEUE_NAMES].sort(),
    );
    const delivery = start('worker');
    expect(OLD_SPACE.exec(delivery.nodeOptions)?.[1]).toBe('104');
    // The queues argument is the entrypoint's, not the worker's.
    expect(delivery.argv).toEqual(['/app/dist/apps/worker/src/main.js']);
    expect(start('sourcing').nodeOptions).not.toMatch(OLD_SPACE);
    expect(vmMb('worker')).toBeGreaterThanOrEqual(v8HeapLimitMb(delivery.nodeOptions) + NATIVE_HEADROOM_MB);
    expect(vmMb('sourcing')).toBeGreaterThan(vmMb('worker'));
  });

  it('checks every worker group on its ops port, health and readiness', () => {
    const checks = Object.values(
      fly.checks as Record<string, { processes: string[]; path: string; port: number }>,
    );
    for (const [group] of workerGroups) {
      const paths = checks.filter((c) => c.processes.includes(group)).map((c) => `${c.port}${c.path}`);
      expect(paths.sort()).toEqual(['9464/health', '9464/ready']);
    }
  });
});

describe('worker pools in docker compose', () => {
  const compose = parse(readRepoFile('docker/compose.yml'), { merge: true }) as {
    services: Record<string, { command?: string[] }>;
  };
  const prometheus = parse(readRepoFile('docker/prometheus/prometheus.yml')) as {
    scrape_configs: { job_name: string; dns_sd_configs?: { names: string[] }[] }[];
  };
  const workerServices = Object.entries(compose.services).filter(([, s]) => s.command?.[0] === 'worker');
  const start = (name: string) => runEntrypoint(compose.services[name]!.command!);

  it('runs a lean delivery `worker` and a `sourcing` worker that together consume every queue', () => {
    expect(workerServices.map(([name]) => name)).toEqual(['worker', 'sourcing']);
    expect(queueList(start('worker').workerQueues)).toEqual(DELIVERY_QUEUES);
    expect(OLD_SPACE.exec(start('worker').nodeOptions)?.[1]).toBe('104');
    expect(start('sourcing').workerQueues).toBe('sourcing');
    expect(start('sourcing').nodeOptions).not.toMatch(OLD_SPACE);
    expect(union(workerServices.map(([name]) => queueList(start(name).workerQueues)))).toEqual(
      [...QUEUE_NAMES].sort(),
    );
  });

  it('Prometheus scrapes every worker service as job herald-worker', () => {
    const job = prometheus.scrape_configs.find((c) => c.job_name === 'herald-worker');
    expect(job?.dns_sd_configs?.flatMap((c) => c.names)).toEqual(workerServices.map(([name]) => name));
  });
});
