import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '@herald/testing';

export interface ObserveOptions {
  /** The repository root: the shipped rules are read from deploy/prometheus/. */
  root: string;
  /** Where Prometheus keeps its config and data (<data>/prometheus). */
  dir: string;
  port: number;
  /** Ops ports of the roles, as the chart's jobs name them. */
  targets: { api: number; worker: number; beat: number };
}

/**
 * `npm run dev -- --observe`: a local Prometheus (the operator's own binary, Debian's `prometheus`
 * package or Homebrew's) loaded with the alert rules the chart ships, scraping the dev fleet every
 * 5 s under the job names the rules expect, so a person can stop Redis and watch an alert fire.
 */
export class DevPrometheus {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(options: ObserveOptions): Promise<DevPrometheus> {
    const probe = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      throw new Error(
        '--observe needs a `prometheus` binary on PATH (Debian/Ubuntu: `sudo apt-get install -y prometheus` then `sudo systemctl disable --now prometheus`; macOS: `brew install prometheus`)',
      );
    }
    mkdirSync(join(options.dir, 'data'), { recursive: true });
    const config = join(options.dir, 'prometheus.yml');
    const job = (name: string, port: number) =>
      [
        `  - job_name: herald-${name}`,
        `    static_configs:`,
        `      - targets: ['127.0.0.1:${port}']`,
        `        labels: { namespace: dev, release: herald }`,
      ].join('\n');
    writeFileSync(
      config,
      [
        'global: { scrape_interval: 5s, evaluation_interval: 5s }',
        `rule_files: ['${join(options.root, 'deploy/prometheus/alerts.yml')}']`,
        'scrape_configs:',
        job('api', options.targets.api),
        job('worker', options.targets.worker),
        job('beat', options.targets.beat),
        '',
      ].join('\n'),
    );
    const listen = `127.0.0.1:${options.port}`;
    const child = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(options.dir, 'data')}`,
        `--web.listen-address=${listen}`,
        '--storage.tsdb.retention.time=2d',
      ],
      { stdio: 'ignore' },
    );
    const url = `http://${listen}`;
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}) at start`);
        return (await fetch(`${url}/-/ready`).catch(() => undefined))?.status === 200;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'prometheus /-/ready' },
    );
    return new DevPrometheus(child, url);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await exited;
  }
}
