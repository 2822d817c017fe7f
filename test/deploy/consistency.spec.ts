import { roleNodeFlags, type HeraldRole } from '@herald/config';
import { parse } from 'yaml';
import { runEntrypoint, v8HeapLimitMb } from './entrypoint';
import { readFlyToml } from './fly-toml';
import { isObject, readRepoFile, type JsonObject } from './metric-names';

/** Ports, roles and paths must agree across the image, compose, the chart and fly.toml. */

function object(value: unknown, what: string): JsonObject {
  if (!isObject(value)) throw new Error(`${what} is not a mapping`);
  return value;
}

const entrypoint = readRepoFile('docker/entrypoint.sh');
const dockerfile = readRepoFile('docker/Dockerfile');
const compose = object(parse(readRepoFile('docker/compose.yml'), { merge: true }), 'docker/compose.yml');
const services = object(compose.services, 'compose services');
const prometheus = object(parse(readRepoFile('docker/prometheus/prometheus.yml')), 'prometheus.yml');
const values = object(parse(readRepoFile('helm/herald/values.yaml')), 'values.yaml');
const ports = object(values.ports, 'values.ports');
const fly = readRepoFile('fly.toml');
const flyConfig = readFlyToml();

const ROLES = ['api', 'worker', 'beat', 'all'];
const HERALD_SERVICES = {
  migrate: 'migrate',
  api: 'api',
  worker: 'worker',
  sourcing: 'worker',
  beat: 'beat',
} as const;

describe('deployment artifacts agree', () => {
  it('the entrypoint starts every role and migrate through the built files', () => {
    expect(entrypoint).toMatch(/^\s*api \| worker \| beat \| all\)$/m);
    expect(entrypoint).toContain('exec node "/app/dist/apps/$role/src/main.js" "$@"');
    expect(entrypoint).toMatch(/^\s*migrate\)$/m);
    expect(entrypoint).toContain('exec node /app/dist/libs/persistence/src/cli/migrate.js "$@"');
  });

  it('every entry point gives each role the same V8 heap flags, and NODE_OPTIONS still wins', () => {
    const scripts = (JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> }).scripts;
    // The entrypoint, run for real with `node` replaced by a script that prints its NODE_OPTIONS.
    const run = (role: HeraldRole, env: Record<string, string>) => runEntrypoint([role], env).nodeOptions;
    const image = /NODE_OPTIONS="([^"]*)"/.exec(dockerfile)?.[1];
    expect(image).toBe('--enable-source-maps');
    for (const role of ROLES as HeraldRole[]) {
      const flags = roleNodeFlags(role).join(' ');
      // The npm start scripts run a process on every queue.
      expect(scripts[`start:${role}`]).toBe(`node ${flags} dist/apps/${role}/src/main.js`);
      expect(run(role, { NODE_OPTIONS: image! })).toBe(`${flags} ${image}`);
    }
    for (const queues of [
      '',
      ',',
      'deliveries',
      'system, runs,deliveries',
      'sourcing',
      'runs,sourcing ,deliveries',
    ]) {
      const flags = roleNodeFlags('worker', queues);
      expect(run('worker', { WORKER_QUEUES: queues })).toBe(`${flags.join(' ')} `);
      // Only a worker that does not source leads caps its old generation.
      expect(flags.some((f) => f.startsWith('--max-old-space-size='))).toBe(
        queues.includes('deliveries') && !queues.includes('sourcing'),
      );
    }
    // An operator's own flag comes last, so V8 takes it over the role's default.
    const delivery = { WORKER_QUEUES: 'system,runs,deliveries' };
    const operator = run('worker', { ...delivery, NODE_OPTIONS: '--max-old-space-size=384' });
    expect(operator).toBe(
      `${roleNodeFlags('worker', delivery.WORKER_QUEUES).join(' ')} --max-old-space-size=384`,
    );
    const flag = (name: string) =>
      Number(
        roleNodeFlags('worker', delivery.WORKER_QUEUES)
          .find((f) => f.startsWith(`--${name}=`))
          ?.split('=')[1],
      );
    // V8's heap limit is the old generation plus three semi-spaces.
    const young = 3 * flag('max-semi-space-size');
    expect(v8HeapLimitMb(run('worker', delivery))).toBe(flag('max-old-space-size') + young);
    expect(v8HeapLimitMb(operator)).toBe(384 + young);
  });

  it("the entrypoint takes a worker's queues as an argument too, which wins over WORKER_QUEUES", () => {
    const run = runEntrypoint(['worker', '--queues=system,runs,deliveries', '--inspect'], {
      WORKER_QUEUES: 'sourcing',
    });
    expect(run.workerQueues).toBe('system,runs,deliveries');
    expect(run.nodeOptions.trim()).toBe(roleNodeFlags('worker', 'system,runs,deliveries').join(' '));
    // Only the first argument is the entrypoint's; the rest still reach node's script.
    expect(run.argv).toEqual(['/app/dist/apps/worker/src/main.js', '--inspect']);
    // Other roles pass it on untouched.
    expect(runEntrypoint(['api', '--queues=sourcing']).argv).toEqual([
      '/app/dist/apps/api/src/main.js',
      '--queues=sourcing',
    ]);
    expect(runEntrypoint(['api', '--queues=sourcing']).workerQueues).toBeUndefined();
  });

  it('the image is Node 24, builds with dev deps, runs with production deps as a numeric non-root user', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-/m);
    expect(dockerfile).toContain('npm ci --no-audit');
    expect(dockerfile).toContain('npm ci --omit=dev');
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*OPS_PORT.*\/health/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["herald-entrypoint"\]$/m);
    expect(readRepoFile('.dockerignore')).toContain('!docker/entrypoint.sh');
  });

  it('compose runs each role through the entrypoint, on the chart ports, with a scalable worker', () => {
    for (const [name, role] of Object.entries(HERALD_SERVICES)) {
      const service = object(services[name], name);
      expect((service.command as string[])[0]).toBe(role);
      const env = object(service.environment, `${name}.environment`);
      expect(env.OPS_PORT).toBe(String(ports.ops));
      expect(env.PORT).toBe(String(ports.http));
    }
    const worker = object(services.worker, 'worker');
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    expect(object(services.api, 'api').depends_on).toMatchObject({
      migrate: { condition: 'service_completed_successfully' },
    });
    expect(object(services.prometheus, 'prometheus').volumes).toContain(
      '../deploy/prometheus/alerts.yml:/etc/prometheus/rules/alerts.yml:ro',
    );
    expect(object(services.grafana, 'grafana').volumes).toContain(
      '../deploy/grafana/dashboards:/etc/herald/dashboards:ro',
    );
  });

  it('Prometheus in compose discovers every replica of every role on the ops port', () => {
    const jobs = (prometheus.scrape_configs as unknown[]).map((c) => object(c, 'scrape config'));
    for (const [job, names] of [
      ['herald-api', ['api']],
      ['herald-worker', ['worker', 'sourcing']],
      ['herald-beat', ['beat']],
    ] as const) {
      const config = jobs.find((c) => c.job_name === job);
      expect(config?.dns_sd_configs).toEqual([
        { names, type: 'A', port: ports.ops, refresh_interval: '15s' },
      ]);
    }
  });

  it('fly.toml runs the same roles, ports and migrations', () => {
    const processes = object(flyConfig.processes, 'fly.toml [processes]');
    expect(Object.keys(processes).sort()).toEqual(['api', 'beat', 'sourcing', 'worker']);
    for (const command of Object.values(processes)) {
      expect(ROLES).toContain(String(command).split(' ')[0]);
    }
    expect(fly).toMatch(/^\s*release_command = "migrate"$/m);
    expect(fly).toMatch(/^\s*internal_port = 3000$/m);
    expect(fly).toMatch(/^\s*PORT = "3000"$/m);
    expect(fly).toMatch(/^\s*OPS_PORT = "9464"$/m);
    expect(fly).toMatch(/path = "\/health"/);
    expect(fly).toMatch(/path = "\/ready"/);
    expect(ports).toEqual({ http: 3000, ops: 9464 });
  });
});
