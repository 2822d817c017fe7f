import {
  createTestDatabase,
  eventually,
  freePort,
  freePortRun,
  TEST_ADMIN_KEY,
  testRedisPrefix,
  testRedisUrl,
  type TestDatabase,
} from '@herald/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from 'pg';
import { holdDevFleetLock } from '../support/dev-fleet-lock';

jest.setTimeout(240_000);

const ROOT = join(__dirname, '../..');
const CONTACTS = 500;

interface DemoState {
  tenant: { id: string; api_key: string };
  accounts: { smtp: string; webhook: string };
  campaigns: { broadcast: string; birthday: string; sequence: string };
  runs: { broadcast: string; birthday?: string };
  enrollments?: { enrolled: number; already_enrolled: number };
  sourcing?: { account?: string; enrichment?: string; model?: string; job?: string; run?: string };
  completed_at?: string;
}

interface Run {
  status: string;
  counts: Record<'targeted' | 'pending' | 'sent' | 'failed' | 'skipped' | 'deferred' | 'cancelled', number>;
}

interface WebhookLine {
  idempotency_key: string;
  campaign_id: string | null;
  run_id: string | null;
  subject: string | null;
}

/** `npm run dev` as a real child process (`node dist/scripts/dev.js`), its stdout kept line by line. */
class DevScript {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    createInterface({ input: child.stdout! }).on('line', (l) => this.lines.push(l));
    createInterface({ input: child.stderr! }).on('line', (l) => this.lines.push(`stderr: ${l}`));
  }

  /** `ownGroup`: in a process group of its own, as a shell puts a foreground job (see ctrlC). */
  static start(args: string[], env: Record<string, string>, ownGroup = false): DevScript {
    return new DevScript(
      spawn(process.execPath, [join(ROOT, 'dist/scripts/dev.js'), ...args], {
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: ownGroup,
      }),
    );
  }

  /** Ctrl-C as a terminal sends it: SIGINT to every process of the foreground group. */
  ctrlC(): void {
    process.kill(-this.child.pid!, 'SIGINT');
  }

  has(text: string): boolean {
    return this.lines.some((l) => l.includes(text));
  }

  async waitForLine(text: string, timeoutMs = 90_000): Promise<void> {
    await eventually(() => Promise.resolve(this.has(text) || !this.running), {
      timeoutMs,
      intervalMs: 100,
      what: `dev script line "${text}"\n${this.lines.slice(-30).join('\n')}`,
    });
    if (!this.has(text)) throw new Error(`dev script exited early:\n${this.lines.join('\n')}`);
  }

  /** SIGINT (Ctrl-C) and the exit it leads to; SIGKILL after 60 s so nothing outlives the test. */
  async interrupt(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 60_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
}

async function scalar(db: TestDatabase, sql: string, params: unknown[] = []): Promise<number> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(sql, params);
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

/**
 * The first five minutes: `npm run dev` starts the fleet and the dev sinks, seeds a demo tenant
 * through the public API, and the demo's runs reach the sinks — every SMTP delivery an .eml file,
 * every webhook delivery a line of the webhook log, as many as the ledger says. A restart on the
 * same data creates nothing again. `--no-demo` is the bare fleet.
 */
describe('npm run dev (the dev script and its demo)', () => {
  let db: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;
  let dev: DevScript | undefined;

  let releaseFleetLock: (() => void) | undefined;

  beforeAll(async () => {
    // The other spec running the dev fleet finishes first (they share the demo's fixed ports).
    releaseFleetLock = await holdDevFleetLock();
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'herald-dev-demo-'));
    env = {
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: testRedisPrefix(),
      PORT: String(await freePort()),
      OPS_PORT: String(await freePortRun()),
      HERALD_ADMIN_KEY: TEST_ADMIN_KEY,
      SHUTDOWN_GRACE_MS: '5000',
    };
  });

  afterEach(async () => {
    if (dev) await dev.interrupt();
    dev = undefined;
  });

  afterAll(async () => {
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    releaseFleetLock?.();
  });

  const api = async <T>(key: string, path: string): Promise<T> => {
    const res = await fetch(`http://127.0.0.1:${env.PORT}${path}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
    return (await res.json()) as T;
  };
  const state = () => JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8')) as DemoState;
  const emlFiles = () => readdirSync(join(dataDir, 'mail')).filter((f) => f.endsWith('.eml'));
  const webhookLines = (): WebhookLine[] => {
    const file = join(dataDir, 'webhooks.ndjson');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as WebhookLine);
  };
  const completedRun = (key: string, id: string) =>
    eventually(
      async () => {
        const run = await api<Run>(key, `/v1/runs/${id}`);
        return run.status === 'completed' && run;
      },
      { timeoutMs: 90_000, intervalMs: 250, what: `run ${id} completed` },
    );
  /** What a restart must not add to: rows the demo creates, and deliveries already made. */
  const snapshot = async (s: DemoState) => ({
    tenants: await scalar(db, 'SELECT count(*) AS n FROM tenants'),
    contacts: await scalar(db, 'SELECT count(*) AS n FROM contacts'),
    sourcedContacts: await scalar(
      db,
      'SELECT count(DISTINCT contact_id) AS n FROM candidates WHERE contact_id IS NOT NULL',
    ),
    senderAccounts: await scalar(db, 'SELECT count(*) AS n FROM sender_accounts'),
    campaigns: await scalar(db, 'SELECT count(*) AS n FROM campaigns'),
    broadcastRuns: await scalar(db, 'SELECT count(*) AS n FROM campaign_runs WHERE campaign_id = $1', [
      s.campaigns.broadcast,
    ]),
    birthdayRuns: await scalar(db, 'SELECT count(*) AS n FROM campaign_runs WHERE campaign_id = $1', [
      s.campaigns.birthday,
    ]),
    birthdayDeliveries: await scalar(db, 'SELECT count(*) AS n FROM deliveries WHERE campaign_id = $1', [
      s.campaigns.birthday,
    ]),
    emails: emlFiles().length,
    greetings: webhookLines().filter((l) => l.campaign_id === s.campaigns.birthday).length,
  });

  it('seeds the demo through the API, runs reach the dev sinks, and a restart duplicates nothing', async () => {
    const firstStart = Date.now();
    dev = DevScript.start(['--contacts', String(CONTACTS), '--data-dir', dataDir], env);
    await dev.waitForLine('Where to look', 150_000);
    const s = state();
    expect(s.completed_at).toBeDefined();
    const key = s.tenant.api_key;

    // The printed console link signs the demo tenant in, once.
    const link = /http:\/\/127\.0\.0\.1:\d+\/console\/sign-in\?token=[\w-]+/.exec(dev.lines.join('\n'))?.[0];
    expect(link).toBeDefined();
    const signedIn = await fetch(link!, { redirect: 'manual' });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.getSetCookie()[0]).toMatch(/^herald_session=hs_/);
    expect((await fetch(link!, { redirect: 'manual' })).status).toBe(401);

    // The broadcast goes through the SMTP sink: one .eml per delivery the ledger counts as sent.
    const broadcast = await completedRun(key, s.runs.broadcast);
    expect(broadcast.counts.sent).toBeGreaterThan(CONTACTS / 2); // the audience is the `newsletter` tag
    expect(broadcast.counts).toMatchObject({
      failed: 0,
      pending: 0,
      deferred: 0,
      targeted: broadcast.counts.sent,
    });
    await eventually(() => Promise.resolve(emlFiles().length === broadcast.counts.sent), {
      what: 'one .eml per email',
    });
    const index = readFileSync(join(dataDir, 'mail', 'index.ndjson'), 'utf8')
      .split('\n')
      .filter(Boolean);
    expect(index).toHaveLength(broadcast.counts.sent);

    // The birthday greetings (a manual run right away) go through the webhook sink, which checked
    // every signature: one logged delivery per greeting the ledger counts as sent.
    expect(s.runs.birthday).toBeDefined();
    const birthday = await completedRun(key, s.runs.birthday!);
    expect(birthday.counts.sent).toBeGreaterThan(0);
    expect(birthday.counts.failed).toBe(0);
    const greetings = webhookLines().filter((l) => l.run_id === s.runs.birthday);
    expect(greetings).toHaveLength(birthday.counts.sent);
    expect(new Set(greetings.map((g) => g.idempotency_key)).size).toBe(greetings.length);

    // The sequence's first step reaches every enrolled contact.
    expect(s.enrollments).toBeDefined();
    const enrolled = s.enrollments!.enrolled + s.enrollments!.already_enrolled;
    expect(enrolled).toBeGreaterThan(0);
    const stepOneSent = () =>
      webhookLines().filter((l) => l.campaign_id === s.campaigns.sequence && l.subject?.includes('(1/3)'))
        .length;
    // At least: the demo's sourced tier-A leads join the same sequence (counted below).
    await eventually(() => Promise.resolve(stepOneSent() >= enrolled), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'sequence step 1 sent to every enrolled contact',
    });
    const firstDelivery = dev.lines.find((l) => l.includes('first delivery'));
    expect(firstDelivery).toBeDefined();
    process.stderr.write(
      `dev demo: first start to settled runs in ${((Date.now() - firstStart) / 1000).toFixed(1)} s; ${firstDelivery}\n`,
    );

    // The sourcing demo: bakeries from the dev directory, their websites assessed on the dev sites
    // server, looked up in the dev enrichment API, scored by the seeded model, tier A enrolled.
    const sourcingRun = s.sourcing?.run;
    expect(sourcingRun).toBeDefined();
    await eventually(
      async () =>
        (await api<{ status: string }>(key, `/v1/sourcing-runs/${sourcingRun}`)).status === 'completed',
      { timeoutMs: 180_000, intervalMs: 500, what: 'demo sourcing run completed' },
    );
    const candidates = (where: string) =>
      scalar(db, `SELECT count(*) AS n FROM candidates c WHERE c.run_id = $1 AND ${where}`, [sourcingRun]);
    expect(await candidates(`c.facts->'assessment'->>'status' = '200'`)).toBeGreaterThan(0);
    expect(await candidates(`c.facts->'enrichment'->>'employees' IS NOT NULL`)).toBeGreaterThan(0);
    expect(await candidates(`c.stage IN ('discovered', 'assessed', 'enriched')`)).toBe(0);
    const enrolledLeads = await scalar(
      db,
      `SELECT count(*) AS n FROM candidates c JOIN enrollments e ON e.id = c.enrollment_id AND e.contact_id = c.contact_id
        WHERE c.run_id = $1 AND c.tier = 'A' AND c.stage = 'handed_off' AND e.campaign_id = $2`,
      [sourcingRun, s.campaigns.sequence],
    );
    expect(enrolledLeads).toBeGreaterThan(0);
    expect(await candidates(`c.tier = 'A' AND c.enrollment_id IS NULL`)).toBe(0);
    // …and they get the sequence's first step like the demo's own contacts.
    await eventually(() => Promise.resolve(stepOneSent() === enrolled + enrolledLeads), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'sequence step 1 sent to every enrolled contact and sourced lead',
    });

    const before = await snapshot(s);
    expect(before).toMatchObject({
      tenants: 1,
      contacts: CONTACTS + before.sourcedContacts,
      senderAccounts: 2,
      campaigns: 3,
      broadcastRuns: 1,
    });
    expect(before.birthdayRuns).toBe(1);
    expect(before.greetings).toBe(before.birthdayDeliveries);

    // Ctrl-C: everything stops, exit 0.
    const stopped = await dev.interrupt();
    expect(stopped).toEqual({ code: 0, signal: null });
    expect(dev.has('[dev] stopped')).toBe(true);

    // Again on the same data: the demo is recognised, nothing is created or sent twice.
    dev = DevScript.start(['--contacts', String(CONTACTS), '--data-dir', dataDir], env);
    await dev.waitForLine('Where to look', 120_000);
    expect(dev.has('already seeded')).toBe(true);
    expect(state()).toEqual(s);
    expect(await snapshot(s)).toEqual(before);
    const restopped = await dev.interrupt();
    expect(restopped).toEqual({ code: 0, signal: null });
    dev = undefined;
    expect(await snapshot(s)).toEqual(before);
  });

  it('Ctrl-C on the terminal stops api, worker and beat before Postgres and Redis: no error logged', async () => {
    const ownDir = mkdtempSync(join(tmpdir(), 'herald-dev-ctrlc-'));
    chmodSync(ownDir, 0o755); // as `.data` is: Postgres runs as its own user and must traverse it
    // No DATABASE_URL / REDIS_URL: the script starts its own Postgres and Redis, as on a laptop.
    const { DATABASE_URL: _db, REDIS_URL: _redis, QUEUE_PREFIX: _prefix, ...own } = env;
    try {
      const script = DevScript.start(['--no-demo', '--data-dir', ownDir], own, true);
      dev = script;
      await script.waitForLine('Ctrl-C stops everything.', 120_000);
      const before = script.lines.length;
      script.ctrlC();
      expect(await script.exited).toEqual({ code: 0, signal: null });
      dev = undefined;
      const stopping = script.lines.slice(before);
      expect(stopping.some((l) => l.includes('[dev] stopped'))).toBe(true);
      // The apps' shutdown logs (streamed here with --no-demo) name no failure: Postgres and Redis
      // were still up while api, worker and beat finished.
      expect(stopping.filter((l) => /error|refused|terminating connection|ECONN/i.test(l))).toEqual([]);
    } finally {
      rmSync(ownDir, { recursive: true, force: true });
    }
  });

  it('--no-demo starts the bare fleet: no sinks, no seed', async () => {
    const bare = await createTestDatabase();
    const bareDir = mkdtempSync(join(tmpdir(), 'herald-dev-bare-'));
    try {
      dev = DevScript.start(['--no-demo', '--data-dir', bareDir], {
        ...env,
        DATABASE_URL: bare.url,
        QUEUE_PREFIX: testRedisPrefix(),
      });
      await dev.waitForLine('Ctrl-C stops everything.');
      expect((await fetch(`http://127.0.0.1:${env.PORT}/ready`)).status).toBe(200);
      expect(dev.has('sink')).toBe(false);
      expect(dev.has('demo')).toBe(false);
      expect(existsSync(join(bareDir, 'demo.json'))).toBe(false);
      expect(existsSync(join(bareDir, 'mail'))).toBe(false);
      expect(await scalar(bare, 'SELECT count(*) AS n FROM tenants')).toBe(0);
      expect(await dev.interrupt()).toEqual({ code: 0, signal: null });
      dev = undefined;
    } finally {
      await bare.drop();
      rmSync(bareDir, { recursive: true, force: true });
    }
  });
});
