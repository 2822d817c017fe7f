import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { ALERTS_FILE, readRepoFile, REPO_ROOT } from './metric-names';

/**
 * docker compose cannot run here (no Docker engine), so the compose file is checked for what
 * would break `up`: references to services, volumes and files that do not exist, port clashes,
 * and the wiring between Prometheus, Alertmanager, Tempo, Loki and Grafana.
 */
const DOCKER = join(REPO_ROOT, 'docker');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  ports?: string[];
  volumes?: string[];
  depends_on?: string[] | Record<string, unknown>;
  environment?: Record<string, string>;
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

const compose = parse(readRepoFile('docker/compose.yml'), { merge: true }) as Compose;
const services = Object.entries(compose.services);

/** `${VAR:-default}` and `${VAR-default}` as compose resolves them with VAR unset. */
function withDefaults(text: string): string {
  return text.replace(/\$\{[A-Z_]+:?-([^}]*)\}/g, '$1');
}

function mountSource(volume: string): string {
  return volume.split(':')[0]!;
}

function readYaml<T>(path: string): T {
  return parse(readRepoFile(path)) as T;
}

describe('docker/compose.yml', () => {
  it('every service has an image, and the Herald build context and Dockerfile exist', () => {
    for (const [name, service] of services) {
      expect(`${name}: ${service.image ?? ''}`).toMatch(/^[\w-]+: \S+/);
      if (service.build) {
        expect(existsSync(resolve(DOCKER, service.build.context, service.build.dockerfile))).toBe(true);
      }
    }
  });

  it('every bind mount names a file in the repository and every named volume is declared and used', () => {
    const named = new Set<string>();
    for (const [name, service] of services) {
      for (const volume of service.volumes ?? []) {
        const source = mountSource(volume);
        if (source.startsWith('.')) {
          expect(`${name}: ${source} ${existsSync(resolve(DOCKER, source)) ? 'exists' : 'is missing'}`).toBe(
            `${name}: ${source} exists`,
          );
        } else if (isAbsolute(source)) {
          // The one host path: Alloy reads container logs through the Docker socket.
          expect(`${name}: ${source}`).toBe('alloy: /var/run/docker.sock');
        } else {
          named.add(source);
        }
      }
    }
    expect([...named].sort()).toEqual(Object.keys(compose.volumes).sort());
  });

  it('depends_on names services that exist', () => {
    for (const [name, service] of services) {
      const deps = Array.isArray(service.depends_on)
        ? service.depends_on
        : Object.keys(service.depends_on ?? {});
      for (const dep of deps)
        expect(`${name} -> ${dep}: ${dep in compose.services}`).toBe(`${name} -> ${dep}: true`);
    }
  });

  it('publishes no host port twice, and only the api beyond loopback', () => {
    const published = services.flatMap(([name, service]) =>
      (service.ports ?? []).map((port) => ({ name, port: withDefaults(port) })),
    );
    const hostPorts = published.map(({ port }) => port.split(':').at(-2));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    for (const { name, port } of published) {
      if (name !== 'api') expect(`${name} ${port}`).toMatch(/^\S+ 127\.0\.0\.1:\d+:\d+$/);
    }
    expect(published.map(({ name }) => name)).toEqual(
      expect.arrayContaining(['api', 'prometheus', 'alertmanager', 'grafana', 'tempo']),
    );
  });

  it('Prometheus loads the shipped alert rules, passes promtool, and sends alerts to Alertmanager', () => {
    const prometheus = compose.services.prometheus!;
    expect(prometheus.volumes).toContain(`../${ALERTS_FILE}:/etc/prometheus/rules/alerts.yml:ro`);
    const config = readYaml<{
      rule_files: string[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    }>('docker/prometheus/prometheus.yml');
    expect(config.rule_files).toContain('/etc/prometheus/rules/*.yml');
    const targets = config.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((s) => s.targets));
    expect(targets).toEqual(['alertmanager:9093']);
    expect(compose.services.alertmanager?.ports?.map(withDefaults)).toEqual(['127.0.0.1:9093:9093']);
    const checked = execFileSync('promtool', ['check', 'config', join(DOCKER, 'prometheus/prometheus.yml')], {
      encoding: 'utf8',
    });
    expect(checked).toContain('SUCCESS');
  });

  it('Alertmanager routes everything to a null receiver by default', () => {
    const service = compose.services.alertmanager!;
    const configMount = service.volumes!.find((v) => v.includes('/etc/alertmanager/alertmanager.yml'))!;
    const config = readYaml<{
      route: { receiver: string; routes?: unknown[] };
      receivers: { name: string }[];
    }>(join('docker', mountSource(configMount)));
    expect(service.command).toContain('--config.file=/etc/alertmanager/alertmanager.yml');
    expect(config.route.receiver).toBe('null');
    expect(config.route.routes).toBeUndefined();
    // A receiver with no *_configs delivers nowhere.
    expect(config.receivers).toEqual([{ name: 'null' }]);
  });

  it('every Herald role exports traces to the OTLP/HTTP port Tempo listens on', () => {
    const tempo = readYaml<{
      distributor: { receivers: { otlp: { protocols: { http: { endpoint: string } } } } };
    }>('docker/tempo/tempo.yml');
    const port = tempo.distributor.receivers.otlp.protocols.http.endpoint.split(':').at(-1);
    expect(port).toBe('4318');
    for (const role of ['migrate', 'api', 'worker', 'beat']) {
      const endpoint = withDefaults(compose.services[role]!.environment!.OTEL_EXPORTER_OTLP_ENDPOINT!);
      expect(`${role}: ${endpoint}`).toBe(`${role}: http://tempo:${port}`);
    }
    expect(compose.services.tempo!.command).toEqual(['-config.file=/etc/tempo/tempo.yml']);
    expect(compose.services.tempo!.volumes).toContain('./tempo/tempo.yml:/etc/tempo/tempo.yml:ro');
  });

  it('Grafana links logs to traces and traces to logs by trace_id', () => {
    interface Datasource {
      uid: string;
      type: string;
      url: string;
      jsonData?: {
        tracesToLogsV2?: { datasourceUid: string; query: string };
        derivedFields?: { datasourceUid: string; matcherRegex: string; url: string }[];
      };
    }
    const provisioning = 'docker/grafana/provisioning/datasources';
    const datasources = ['prometheus.yml', 'tracing.yml'].flatMap(
      (file) => readYaml<{ datasources: Datasource[] }>(`${provisioning}/${file}`).datasources,
    );
    const byUid = Object.fromEntries(datasources.map((d) => [d.uid, d]));
    expect(Object.keys(byUid).sort()).toEqual(['loki', 'prometheus', 'tempo']);
    for (const { url } of datasources) {
      const host = new URL(url).hostname;
      expect(`${url}: ${host in compose.services}`).toBe(`${url}: true`);
    }

    // Log line -> trace: the derived field finds the trace id in a Herald JSON log line.
    const [field] = byUid.loki!.jsonData!.derivedFields!;
    expect(field!.datasourceUid).toBe('tempo');
    const line = JSON.stringify({
      level: 30,
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      msg: 'delivered',
    });
    expect(new RegExp(field!.matcherRegex).exec(line)?.[1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(field!.url).toBe('$${__value.raw}');

    // Trace -> log lines: a Loki query on the trace_id that Alloy keeps as structured metadata.
    const toLogs = byUid.tempo!.jsonData!.tracesToLogsV2!;
    expect(toLogs.datasourceUid).toBe('loki');
    expect(toLogs.query).toContain('trace_id="$${__trace.traceId}"');
    const alloy = readRepoFile('docker/alloy/config.alloy');
    expect(alloy).toMatch(/stage\.json \{\s*expressions = \{ trace_id = "trace_id" \}/);
    expect(alloy).toMatch(/stage\.structured_metadata \{\s*values = \{ trace_id = "" \}/);
    expect(alloy).toContain('url = "http://loki:3100/loki/api/v1/push"');
  });
});
