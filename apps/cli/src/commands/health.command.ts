import type { HeraldConfig } from '@herald/config';
import type { HeraldMetrics, ComponentStatus, ReadinessReport } from '@herald/telemetry';
import { Option, type Command } from 'commander';
import { ApiClient } from '../api-client';
import { variable, type CliContext } from '../cli-context';
import { CliError, EXIT } from '../exit-codes';
import { table } from '../output';
import type { Run } from '../program';
import { migrationStates } from './migrate.command';

type HealthReport = Omit<ReadinessReport, 'service' | 'version'> &
  Partial<Pick<ReadinessReport, 'service' | 'version'>> & { source: string };

interface HealthOptions {
  url?: string;
  heartbeatMaxAge?: string;
}

/** `herald health`: every component up or down, for people, cron and scripts (exit 1 when down). */
export function registerHealthCommand(program: Command, run: Run): void {
  program
    .command('health')
    .description(
      "is the deployment ready? Postgres, Redis and live workers (direct), or a process's /ready (--url); exit 1 when anything required is down",
    )
    .option(
      '--url <url>',
      "ask this api (or any role's ops port) for its /ready instead of checking directly",
    )
    .addOption(
      new Option(
        '--heartbeat-max-age <ms>',
        "a worker silent for longer counts as gone (the fleet's default)",
      ).env('WORKER_HEARTBEAT_MAX_AGE_MS'),
    )
    .action((options: HealthOptions, command: Command) =>
      run(command, async (ctx) => {
        const report = options.url ? await readyOf(options.url) : await directChecks(ctx, options);
        ctx.out.result(report, () => renderHealth(report));
        return report.status === 'up' ? EXIT.ok : EXIT.failed;
      }),
    );
}

/** The process's own view: its `/ready` report (200 up, 503 down). */
async function readyOf(url: string): Promise<HealthReport> {
  if (!URL.canParse(url)) throw new CliError(EXIT.usage, `--url is not a URL: ${url}`);
  const { status, body } = await new ApiClient(url, undefined).probe<ReadinessReport>('ready');
  if (status !== 200 && status !== 503) {
    throw new CliError(EXIT.failed, `${url}/ready answered ${status}: is it a Herald process?`);
  }
  return { ...body, source: new URL('ready', url.endsWith('/') ? url : `${url}/`).toString() };
}

/** The same components checked from here: Postgres, Redis, and the workers' heartbeats in Redis. */
async function directChecks(ctx: CliContext, options: HealthOptions): Promise<HealthReport> {
  const maxAgeMs = Number(await variable('WORKER_HEARTBEAT_MAX_AGE_MS', options.heartbeatMaxAge));
  // Load the drivers first, so each component's time is its check, not this process's start-up.
  await Promise.all([import('typeorm'), import('@herald/persistence'), import('@herald/queues')]);
  const started = performance.now();
  const [database, redis] = await Promise.all([
    check(async () => {
      const db = await ctx.database();
      await db.query('SELECT 1');
      const pending = (await migrationStates(ctx)).filter((m) => m.state === 'pending').length;
      return { pending_migrations: pending };
    }),
    check(async () => {
      await (await ctx.redis()).ping();
    }),
  ]);
  const workers =
    redis.status === 'up'
      ? await check(async () => {
          const alive = await (await heartbeats(ctx, maxAgeMs)).alive();
          if (alive.length === 0) throw new Error(`no worker heartbeat in the last ${maxAgeMs} ms`);
          return { alive: alive.length, max_age_ms: maxAgeMs };
        })
      : { status: 'down' as const, duration_ms: 0, error: 'redis is down' };
  const components = { database, redis, workers };
  return {
    status: Object.values(components).every((c) => c.status === 'up') ? 'up' : 'down',
    source: 'direct: DATABASE_URL, REDIS_URL',
    duration_ms: Math.round(performance.now() - started),
    components,
  };
}

/** The api's heartbeat reader (libs/queues) on this command's Redis connection. */
async function heartbeats(ctx: CliContext, maxAgeMs: number) {
  const [redis, keys, { HeartbeatReader }] = await Promise.all([
    ctx.redis(),
    ctx.redisKeys(),
    import('@herald/queues'),
  ]);
  // `alive()` reads only the heartbeat age from the config and records no metric: the api's
  // readiness wiring, which needs both, is not used here.
  const config = { telemetry: { heartbeatMaxAgeMs: maxAgeMs } } as HeraldConfig;
  return new HeartbeatReader(redis, keys, config, undefined as unknown as HeraldMetrics);
}

async function check(probe: () => Promise<Record<string, unknown> | void>): Promise<ComponentStatus> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const details = await probe();
    return { status: 'up', duration_ms: elapsed(), ...(details ?? {}) };
  } catch (error) {
    // A missing or invalid variable is the command's fault, not a component's.
    if (error instanceof CliError && error.exitCode === EXIT.usage) throw error;
    return { status: 'down', duration_ms: elapsed(), error: (error as Error).message };
  }
}

function renderHealth(report: HealthReport): string {
  const rows = Object.entries(report.components).map(([name, c]) => {
    const { status, duration_ms, error, ...details } = c;
    const detail =
      error ??
      Object.entries(details)
        .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
        .join(' ');
    return [name, status, duration_ms, detail];
  });
  const verdict = `${report.status === 'up' ? 'ready' : 'NOT READY'} (${report.source})`;
  return `${table(['component', 'status', 'ms', 'detail'], rows)}\n\n${verdict}`;
}
