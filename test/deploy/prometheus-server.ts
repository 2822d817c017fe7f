import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { freePort } from '@herald/testing';
import { stringify } from 'yaml';

/** Debian's package; CI stops the system service so none competes (.ci/run). */
const PROMETHEUS = '/usr/bin/prometheus';

export interface ScrapeTarget {
  job: string;
  address: string;
  labels: Record<string, string>;
}

export interface Series {
  metric: Record<string, string>;
  /** [unix seconds, value] pairs (one for an instant query). */
  values: [number, string][];
}

/**
 * A real Prometheus on loopback with its own config and data directory: it scrapes the given
 * targets every second and evaluates the given rule files, as a production one would, and its
 * HTTP API answers the queries a dashboard or an alert would send.
 */
export class PrometheusServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
    private readonly output: string[],
  ) {}

  static async start(options: { targets: ScrapeTarget[]; ruleFiles: string[] }): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'herald-prometheus-'));
    const rules = options.ruleFiles.map((file) => {
      const copy = join(dir, basename(file));
      copyFileSync(file, copy);
      return copy;
    });
    const jobs = [...new Set(options.targets.map((t) => t.job))];
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: rules,
      scrape_configs: jobs.map((job) => ({
        job_name: job,
        static_configs: options.targets
          .filter((t) => t.job === job)
          .map((t) => ({ targets: [t.address], labels: t.labels })),
      })),
    };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    const port = await freePort();
    const child = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output: string[] = [];
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const server = new PrometheusServer(child, dir, `http://127.0.0.1:${port}`, output);
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${output.join('')}`);
      const ready = await fetch(`${server.url}/-/ready`).then(
        (res) => res.ok,
        () => false,
      );
      if (ready) return server;
      if (Date.now() > deadline) throw new Error(`prometheus not ready within 15 s: ${output.join('')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** An instant query: the series the expression returns now. */
  async query(expr: string): Promise<Series[]> {
    const data = await this.api('query', { query: expr });
    return data.result.map((r) => ({ metric: r.metric, values: r.value ? [r.value] : [] }));
  }

  /** A range query, as a Grafana panel sends it. */
  async queryRange(expr: string, startMs: number, endMs: number, stepSeconds = 1): Promise<Series[]> {
    const data = await this.api('query_range', {
      query: expr,
      start: String(startMs / 1000),
      end: String(endMs / 1000),
      step: String(stepSeconds),
    });
    return data.result.map((r) => ({ metric: r.metric, values: r.values ?? [] }));
  }

  /** The alerting rules as Prometheus loaded them, with their state. */
  async rules(): Promise<{ name: string; type: string; health: string; lastError?: string }[]> {
    const res = await fetch(`${this.url}/api/v1/rules`);
    const body = (await res.json()) as {
      data: { groups: { rules: { name: string; type: string; health: string; lastError?: string }[] }[] };
    };
    return body.data.groups.flatMap((g) => g.rules);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async api(
    path: string,
    params: Record<string, string>,
  ): Promise<{
    result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[];
  }> {
    const res = await fetch(`${this.url}/api/v1/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data: {
        result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[];
      };
    };
    if (body.status !== 'success') throw new Error(`prometheus ${path} ${params.query}: ${body.error}`);
    return body.data;
  }
}
