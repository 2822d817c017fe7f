import { MIGRATIONS } from '@herald/persistence';
import { hashTaggedPrefix } from '@herald/queues';
import {
  callApi,
  createTestDatabase,
  eventually,
  freePort,
  HeraldProcess,
  testEnvironment,
  testRedisPrefix,
  testRedisUrl,
  WebhookSink,
  type TestDatabase,
} from '@herald/testing';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

jest.setTimeout(120_000);

const CLI = join(__dirname, '../../dist/apps/cli/src/main.js');
const SECRET = 'cli-e2e-sink-secret-0123456789abcdef';
const CONTACTS = 300;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The built CLI as an operator runs it: a child process with its own environment. */
function herald(args: readonly string[], env: Record<string, string>): Promise<Result> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    }),
  );
}

/** Asserts the exit code; a mismatch shows what the command printed. */
function expectExit(result: Result, code: number): void {
  if (result.code !== code) {
    throw new Error(
      `exit ${result.code}, expected ${code}\n--- stdout:\n${result.stdout}\n--- stderr:\n${result.stderr}`,
    );
  }
}

function json<T>(result: Result): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}):\n${result.stdout}\n--- stderr:\n${result.stderr}`);
  }
}

type Run = {
  id: string;
  status: string;
  dry_run: boolean;
  counts: Record<'targeted' | 'sent' | 'failed' | 'skipped' | 'cancelled', number>;
};

/**
 * Every `herald` command against a real api + worker fleet: the operator commands on its
 * Postgres and Redis, the tenant commands through its API, with exit codes, JSON results,
 * progress on stderr, and quick failures when a dependency is away.
 */
describe('the herald CLI against a running fleet', () => {
  let db: TestDatabase;
  let sink: WebhookSink;
  let api: HeraldProcess;
  let worker: HeraldProcess;
  let fleetEnv: Record<string, string>;
  /** What an operator has: the fleet's own environment. */
  let operator: Record<string, string>;
  let files: string;
  let tenant: { id: string; api_key: { id: string; key: string } };
  let tenantEnv: Record<string, string>;
  let accountId: string;
  let campaignId: string;

  beforeAll(async () => {
    files = mkdtempSync(join(tmpdir(), 'herald-cli-'));
    [db, sink] = await Promise.all([createTestDatabase(), WebhookSink.start(SECRET)]);
    fleetEnv = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: testRedisPrefix(),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
    });
    [api, worker] = await Promise.all([
      HeraldProcess.start('api', fleetEnv),
      HeraldProcess.start('worker', fleetEnv),
    ]);
    operator = { ...fleetEnv, HERALD_API_URL: api.publicUrl };
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await sink?.stop();
    await db?.drop();
    rmSync(files, { recursive: true, force: true });
  });

  const call = <T>(method: string, path: string, key: string, body?: unknown) =>
    callApi<T>(api.publicUrl, method, path, key, body);

  it('migrate status: every migration of the build applied (and migrate run has nothing to do)', async () => {
    const [status, human, run] = await Promise.all([
      herald(['migrate', 'status', '--json'], operator),
      herald(['migrate', 'status'], operator),
      herald(['migrate', '--json'], operator),
    ]);
    expectExit(status, 0);
    expect(json(status)).toEqual({
      migrations: MIGRATIONS.map((M) => ({ name: new M().name, state: 'applied' })),
      pending: 0,
    });
    expect(human.stdout).toContain('schema is up to date');
    expect(human.stdout).toMatch(/^MIGRATION\s+STATE$/m);
    expectExit(run, 0);
    expect(json(run)).toEqual({ applied: [] });
  });

  it('migrate revert, status (exit 1 while pending) and run round-trip, on a database of its own', async () => {
    const scratch = await createTestDatabase();
    try {
      const env = { ...operator, DATABASE_URL: scratch.url };
      const last = new MIGRATIONS[MIGRATIONS.length - 1]!().name;
      const reverted = await herald(['migrate', 'revert', '--json'], env);
      expectExit(reverted, 0);
      expect(json(reverted)).toEqual({ reverted: last });
      const pending = await herald(['migrate', 'status', '--json'], env);
      expectExit(pending, 1);
      expect(json<{ pending: number; migrations: { state: string }[] }>(pending)).toMatchObject({
        pending: 1,
      });
      const applied = await herald(['migrate', 'run'], env);
      expectExit(applied, 0);
      expect(applied.stdout).toBe(`applied  ${last}\n`);
      expectExit(await herald(['migrate', 'status'], env), 0);
    } finally {
      await scratch.drop();
    }
  });

  it('tenants create prints the first key once, the API accepts it, tenants list shows the tenant', async () => {
    const created = await herald(
      ['tenants', 'create', '--name', 'Acme Outreach', '--time-zone', 'Europe/Paris', '--json'],
      operator,
    );
    expectExit(created, 0);
    tenant = json(created);
    expect(tenant).toMatchObject({
      name: 'Acme Outreach',
      time_zone: 'Europe/Paris',
      api_key: { scopes: ['read', 'write', 'admin'], key: expect.stringMatching(/^hk_/) as string },
    });
    expect(created.stderr).toContain('shown this once');
    expect(created.stderr).not.toContain(tenant.api_key.key);
    tenantEnv = { ...operator, HERALD_API_KEY: tenant.api_key.key };
    expect((await call('GET', '/v1/api-keys', tenant.api_key.key)).status).toBe(200);

    const [listed, table, human] = await Promise.all([
      herald(['tenants', 'list', '--json'], operator),
      herald(['tenants', 'list'], operator),
      herald(['tenants', 'create', '--name', 'Second'], operator),
    ]);
    expect(json<{ data: { id: string; active_keys: number }[] }>(listed).data).toContainEqual(
      expect.objectContaining({ id: tenant.id, name: 'Acme Outreach', active_keys: 1 }),
    );
    expect(table.stdout).toMatch(/^ID\s+NAME\s+TIME ZONE\s+CREATED\s+ACTIVE KEYS$/m);
    expect(table.stdout).toContain('Acme Outreach');
    expect(human.stdout).toMatch(/^api key\s+hk_\w+$/m);
  });

  it('tenants: a bad time zone or a missing variable is a one-line usage error (exit 2)', async () => {
    const { DATABASE_URL: _db, ...withoutDatabase } = operator;
    const { HERALD_ENCRYPTION_KEY: _key, ...withoutSecrets } = operator;
    const [badZone, noDatabase, noSecret] = await Promise.all([
      herald(['tenants', 'create', '--name', 'X', '--time-zone', 'Mars/Olympus_Mons'], operator),
      herald(['tenants', 'list'], withoutDatabase),
      herald(['tenants', 'create', '--name', 'X'], withoutSecrets),
    ]);
    expect(badZone).toMatchObject({ code: 2, stdout: '' });
    expect(badZone.stderr).toBe('herald: --time-zone must be an IANA time zone name such as Europe/Paris\n');
    expectExit(noDatabase, 2);
    expect(noDatabase.stderr).toBe(
      'herald: DATABASE_URL is not set: give the Postgres connection string (or --database-url)\n',
    );
    expectExit(noSecret, 2);
    expect(noSecret.stderr).toMatch(/^herald: HERALD_ENCRYPTION_KEY is required/);
  });

  it('keys create prints the secret once; revoke makes the API refuse it (401); unknown ids exit 3', async () => {
    const created = await herald(
      ['keys', 'create', '--tenant', tenant.id, '--scopes', 'read', '--name', 'reporting', '--json'],
      operator,
    );
    expectExit(created, 0);
    const key = json<{ id: string; key: string; scopes: string[]; name: string }>(created);
    expect(key).toMatchObject({
      name: 'reporting',
      scopes: ['read'],
      key: expect.stringMatching(/^hk_/) as string,
    });
    expect((await call('GET', '/v1/contacts', key.key)).status).toBe(200);
    expect((await call('POST', '/v1/contacts', key.key, { email: 'x@example.test' })).status).toBe(403);

    const listed = await herald(['keys', 'list', '--tenant', tenant.id, '--json'], operator);
    const keys = json<{ data: { id: string; revoked_at: string | null; key?: string }[] }>(listed).data;
    expect(keys.map((k) => k.id)).toEqual([tenant.api_key.id, key.id]);
    expect(keys.every((k) => k.key === undefined)).toBe(true);

    const revoked = await herald(['keys', 'revoke', '--tenant', tenant.id, key.id, '--json'], operator);
    expectExit(revoked, 0);
    expect(json(revoked)).toEqual({ id: key.id, tenant_id: tenant.id, revoked: true });
    expect((await call('GET', '/v1/contacts', key.key)).status).toBe(401);

    const unknown = '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f';
    const [noKey, noTenant, lastAdmin, badScope] = await Promise.all([
      herald(['keys', 'revoke', '--tenant', tenant.id, unknown], operator),
      herald(['keys', 'create', '--tenant', unknown], operator),
      herald(['keys', 'revoke', '--tenant', tenant.id, tenant.api_key.id], operator),
      herald(['keys', 'create', '--tenant', tenant.id, '--scopes', 'read,root'], operator),
    ]);
    expectExit(noKey, 3);
    expect(noTenant).toMatchObject({ code: 3, stderr: `herald: no tenant ${unknown}\n` });
    expectExit(lastAdmin, 1);
    expect(lastAdmin.stderr).toContain('last active admin key');
    expectExit(badScope, 2);
  });

  it('contacts import streams CSV and JSON files and reports rows (exit 0), rejected rows (exit 5), bad files (exit 2)', async () => {
    const csv = join(files, 'contacts.csv');
    writeFileSync(
      csv,
      [
        'email,first_name,last_name,tags',
        ...Array.from({ length: CONTACTS }, (_, i) => `reader${i}@example.test,Reader${i},Test,newsletter`),
      ].join('\n'),
    );
    const jsonFile = join(files, 'contacts.json');
    writeFileSync(
      jsonFile,
      JSON.stringify([
        { email: 'reader0@example.test', first_name: 'Ada', tags: ['newsletter'] },
        { email: 'grace@example.test', first_name: 'Grace', tags: ['newsletter'] },
      ]),
    );
    const bad = join(files, 'bad.csv');
    writeFileSync(
      bad,
      'email,first_name,birth_date\nok@example.test,Ok,\nnot-an-email,Bad,\nlater@example.test,Later,2999-01-01\n',
    );
    const notes = join(files, 'notes.txt');
    writeFileSync(notes, 'hello');

    const good = await herald(['contacts', 'import', csv, '--json'], tenantEnv);
    expectExit(good, 0);
    expect(json(good)).toMatchObject({ created: CONTACTS, updated: 0, failed: 0, errors: [] });
    expect(good.stderr).toMatch(/^import \[#+\] 100% {2}[\d.]+ KiB \/ [\d.]+ KiB$/m);

    const [fromJson, rejected, missing, unknownType] = await Promise.all([
      herald(['contacts', 'import', jsonFile], tenantEnv),
      herald(['contacts', 'import', bad, '--json'], tenantEnv),
      herald(['contacts', 'import', join(files, 'missing.csv')], tenantEnv),
      herald(['contacts', 'import', notes], tenantEnv),
    ]);
    expectExit(fromJson, 0);
    expect(fromJson.stdout).toBe('created  1\nupdated  1\nfailed   0\n');

    expectExit(rejected, 5);
    expect(json(rejected)).toMatchObject({
      created: 1,
      failed: 2,
      errors: [
        { row: 2, field: 'email', message: 'must be an email address' },
        { row: 3, field: 'birth_date', message: expect.any(String) as string },
      ],
    });

    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toBe(`herald: cannot read ${join(files, 'missing.csv')}: no such file\n`);
    expectExit(unknownType, 2);
    expect(unknownType.stderr).toContain('pass --format csv|json');
  });

  it('campaigns run starts a run; runs watch follows it to completion (exit 0); a dry run forecasts', async () => {
    const account = await call<{ id: string }>('POST', '/v1/sender-accounts', tenant.api_key.key, {
      name: 'Loopback sink',
      channel: 'webhook',
      config: { url: sink.url, secret: SECRET },
      quotas: { daily: 10_000 },
      time_zone: 'UTC',
    });
    expect(account.status).toBe(201);
    accountId = account.body.id;
    const campaign = await call<{ id: string }>('POST', '/v1/campaigns', tenant.api_key.key, {
      name: 'Launch',
      kind: 'broadcast',
      sender_account_id: accountId,
      steps: [{ subject: 'Hello {{ first_name }}', body: 'We launched.' }],
      audience: { tags: ['newsletter'] },
    });
    expect(campaign.status).toBe(201);
    campaignId = campaign.body.id;
    const audience = CONTACTS + 1; // the CSV's readers and Grace from the JSON file

    const dry = await herald(['campaigns', 'run', campaignId, '--dry-run', '--json'], tenantEnv);
    expectExit(dry, 0);
    expect(json<Run>(dry)).toMatchObject({
      status: 'completed',
      dry_run: true,
      counts: { targeted: audience, sent: 0 },
    });

    const started = await herald(['campaigns', 'run', campaignId, '--json'], tenantEnv);
    expectExit(started, 0);
    const run = json<Run>(started);
    expect(run.dry_run).toBe(false);

    const watched = await herald(['runs', 'watch', run.id, '--interval', '200', '--json'], tenantEnv);
    expectExit(watched, 0);
    expect(json<Run>(watched)).toMatchObject({
      id: run.id,
      status: 'completed',
      counts: { targeted: audience, sent: audience, failed: 0 },
    });
    expect(watched.stderr).toMatch(
      new RegExp(
        `^run ${run.id.slice(0, 8)} completed \\[#+\\] 100% ${audience}/${audience} · sent ${audience}`,
        'm',
      ),
    );
    expect(sink.delivered.size).toBe(audience);

    const listed = await herald(['campaigns', 'list', '--kind', 'broadcast', '--json'], tenantEnv);
    expectExit(listed, 0);
    expect(json<{ data: { id: string; name: string }[] }>(listed).data).toEqual([
      expect.objectContaining({ id: campaignId, name: 'Launch' }),
    ]);
    const text = await herald(['campaigns', 'list'], tenantEnv);
    expectExit(text, 0);
    expect(text.stdout).toMatch(new RegExp(`^${campaignId}\\s+Launch\\s+broadcast\\s+active\\s`, 'm'));
    expectExit(await herald(['campaigns', 'list', '--limit', '0'], tenantEnv), 2);

    // Newest first: the run just watched, then the dry run.
    const runs = await herald(['runs', 'list', '--campaign', campaignId, '--json'], tenantEnv);
    expectExit(runs, 0);
    expect(json<{ data: Run[] }>(runs).data.map((r) => [r.id, r.status, r.dry_run])).toEqual([
      [run.id, 'completed', false],
      [json<Run>(dry).id, 'completed', true],
    ]);
    const completed = await herald(['runs', 'list', '--status', 'completed', '--limit', '1'], tenantEnv);
    expectExit(completed, 0);
    expect(completed.stdout).toMatch(
      new RegExp(`^${run.id}\\s+${campaignId}\\s+completed\\s+${audience}\\s`, 'm'),
    );
    expect(completed.stdout).toMatch(/^more: herald runs list --cursor \S+$/m);
    expectExit(await herald(['runs', 'list', '--status', 'done'], tenantEnv), 2);

    const again = await herald(['campaigns', 'run', campaignId, '--watch', '--interval', '200'], tenantEnv);
    expectExit(again, 0);
    expect(again.stdout).toMatch(/^status\s+completed$/m);
    expect(again.stdout).toMatch(new RegExp(`^sent\\s+${audience}$`, 'm'));
  });

  it('circuits open holds a run back; cancelling it makes runs watch exit 1; circuits close resumes', async () => {
    const key = `webhook:${accountId}`;
    const opened = await herald(['circuits', 'open', key, '--for', '300', '--json'], operator);
    expectExit(opened, 0);
    expect(json(opened)).toMatchObject({ key, state: 'open', sender_account_id: accountId });
    const listed = await herald(['circuits', '--json'], operator);
    expect(json<{ data: unknown[] }>(listed).data).toContainEqual(
      expect.objectContaining({ key, state: 'open' }),
    );

    const started = json<Run>(await herald(['campaigns', 'run', campaignId, '--json'], tenantEnv));
    const watching = herald(['runs', 'watch', started.id, '--interval', '200', '--json'], tenantEnv);
    // The breaker holds every delivery: the run stays running until it is cancelled.
    await eventually(async () => {
      const res = await call<Run>('GET', `/v1/runs/${started.id}`, tenant.api_key.key);
      return res.body.counts.targeted > 0 && res.body.status === 'running';
    });
    expect((await call('POST', `/v1/runs/${started.id}/cancel`, tenant.api_key.key)).status).toBe(200);
    const watched = await watching;
    expectExit(watched, 1);
    expect(json(watched)).toMatchObject({ id: started.id, status: 'cancelled' });

    const closed = await herald(['circuits', 'close', key], operator);
    expectExit(closed, 0);
    expect(closed.stdout).toMatch(
      new RegExp(`^${key}\\s+sender\\s+${tenant.id}\\s+Loopback sink\\s+closed\\s+0\\s+-\\s+0$`, 'm'),
    );
    const bad = await herald(['circuits', 'open', 'carrier-pigeon:123'], operator);
    expectExit(bad, 2);
  });

  it('circuits tells a source account’s circuit from a sender account’s, and refuses one of no account', async () => {
    const source = await call<{ id: string }>('POST', '/v1/source-accounts', tenant.api_key.key, {
      name: 'Leads list',
      kind: 'csv',
      config: {},
    });
    expect(source.status).toBe(201);
    const sourceKey = `csv:${source.body.id}`;
    const senderKey = `webhook:${accountId}`;
    const opened = await Promise.all(
      [sourceKey, senderKey].map((key) =>
        herald(['circuits', 'open', key, '--for', '300', '--json'], operator),
      ),
    );
    for (const result of opened) expectExit(result, 0);
    expect(json(opened[0]!)).toMatchObject({
      key: sourceKey,
      account_type: 'source',
      kind: 'csv',
      source_account_id: source.body.id,
      tenant_id: tenant.id,
      account_name: 'Leads list',
      state: 'open',
    });
    expect(json(opened[1]!)).toMatchObject({ key: senderKey, account_type: 'sender', channel: 'webhook' });

    const [listed, human] = await Promise.all([
      herald(['circuits', '--json'], operator),
      herald(['circuits'], operator),
    ]);
    expectExit(listed, 0);
    const data = json<{ data: { key: string; account_type: string; tenant_id: string }[] }>(listed).data;
    expect(data.filter((c) => c.key === sourceKey || c.key === senderKey)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          key: sourceKey,
          account_type: 'source',
          tenant_id: tenant.id,
          state: 'open',
        }),
        expect.objectContaining({
          key: senderKey,
          account_type: 'sender',
          tenant_id: tenant.id,
          state: 'open',
        }),
      ]),
    );
    expect(human.stdout).toMatch(
      /^KEY\s+KIND\s+TENANT\s+ACCOUNT\s+STATE\s+FAILURES\s+OPEN UNTIL\s+PERIOD MS$/m,
    );
    expect(human.stdout).toMatch(
      new RegExp(`^${sourceKey}\\s+source\\s+${tenant.id}\\s+Leads list\\s+open\\s`, 'm'),
    );
    expect(human.stdout).toMatch(
      new RegExp(`^${senderKey}\\s+sender\\s+${tenant.id}\\s+Loopback sink\\s+open\\s`, 'm'),
    );

    // A circuit that outlives its account (deleted while open) is still listed, owned by nobody.
    const gone = await call<{ id: string }>('POST', '/v1/source-accounts', tenant.api_key.key, {
      name: 'Gone',
      kind: 'csv',
      config: {},
    });
    expect(gone.status).toBe(201);
    const goneKey = `csv:${gone.body.id}`;
    expectExit(await herald(['circuits', 'open', goneKey, '--for', '300'], operator), 0);
    const deleted = await call('DELETE', `/v1/source-accounts/${gone.body.id}`, tenant.api_key.key);
    expect(deleted.status).toBe(204);
    const [orphanJson, orphanHuman] = await Promise.all([
      herald(['circuits', '--json'], operator),
      herald(['circuits'], operator),
    ]);
    expect(json<{ data: { key: string }[] }>(orphanJson).data.find((c) => c.key === goneKey)).toMatchObject({
      account_type: 'source',
      tenant_id: null,
      account_name: null,
      state: 'open',
    });
    expect(orphanHuman.stdout).toMatch(new RegExp(`^${goneKey}\\s+source\\s+-\\s+-\\s+open\\s`, 'm'));

    // No account of that id, or not of that kind (the sender account's id under a source kind): exit 3.
    const nobody = '0190f5e4-9999-7c3d-8e4f-5a6b7c8d9e0f';
    const [unknown, wrongKind] = await Promise.all([
      herald(['circuits', 'open', `csv:${nobody}`], operator),
      herald(['circuits', 'close', `csv:${accountId}`], operator),
    ]);
    expectExit(unknown, 3);
    expect(unknown.stderr).toContain(`no circuit csv:${nobody}: no csv source account has the id ${nobody}`);
    expectExit(wrongKind, 3);

    const closed = await Promise.all(
      [sourceKey, senderKey].map((key) => herald(['circuits', 'close', key, '--json'], operator)),
    );
    for (const result of closed) expectExit(result, 0);
    expect(closed.map((r) => json<{ state: string }>(r).state)).toEqual(['closed', 'closed']);
  });

  it('deliveries unknown lists what a crash left; resend sends it again, close settles it', async () => {
    // As a worker killed between its provider calls and their record leaves them (SMTP-like: held).
    const sql = new Client({ connectionString: db.url });
    await sql.connect();
    let ids: string[];
    try {
      const rows = await sql.query<{ id: string }>(
        `UPDATE deliveries SET status = 'unknown', last_error = 'outcome unknown (simulated crash)'
          WHERE id IN (SELECT id FROM deliveries WHERE tenant_id = $1 AND status = 'sent' ORDER BY id LIMIT 2)
          RETURNING id`,
        [tenant.id],
      );
      ids = rows.rows.map((r) => r.id).sort();
    } finally {
      await sql.end();
    }
    const [listed, human] = await Promise.all([
      herald(['deliveries', 'unknown', '--json'], tenantEnv),
      herald(['deliveries', 'unknown'], tenantEnv),
    ]);
    expectExit(listed, 0);
    expect(
      json<{ data: { id: string }[] }>(listed)
        .data.map((d) => d.id)
        .sort(),
    ).toEqual(ids);
    expect(human.stdout).toMatch(/^DELIVERY\s+TENANT\s+CHANNEL\s+ATTEMPTS\s+SINCE$/m);
    expect(human.stdout).toContain('herald deliveries resend <delivery>');

    const closed = await herald(
      ['deliveries', 'close', ids[0]!, '--outcome', 'sent', '--reason', 'in the provider log'],
      tenantEnv,
    );
    expectExit(closed, 0);
    expect(closed.stdout).toMatch(/^status\s+sent$/m);
    const replaysBefore = sink.replays;
    const resent = await herald(['deliveries', 'resend', ids[1]!, '--json'], tenantEnv);
    expectExit(resent, 0);
    expect(json(resent)).toMatchObject({ id: ids[1], status: 'pending' });
    // The worker sends it again with the same key: the webhook receiver answers it as a replay.
    await eventually(() => Promise.resolve(sink.replays > replaysBefore));
    expectExit(await herald(['deliveries', 'resend', ids[1]!], tenantEnv), 1); // 409: not unknown any more
    const empty = await herald(['deliveries', 'unknown'], tenantEnv);
    expect(empty.stdout).toBe('no delivery is waiting for an operator\n');
  });

  it('queues shows every queue by state', async () => {
    const [asJson, human] = await Promise.all([
      herald(['queues', '--json'], operator),
      herald(['queues'], operator),
    ]);
    expectExit(asJson, 0);
    const data = json<{ data: { name: string; paused: boolean; counts: Record<string, number> }[] }>(
      asJson,
    ).data;
    expect(data.map((q) => q.name)).toEqual(['system', 'runs', 'deliveries', 'sourcing']);
    for (const queue of data) {
      expect(Object.keys(queue.counts)).toEqual([
        'waiting',
        'active',
        'delayed',
        'prioritized',
        'waiting_children',
        'failed',
        'completed',
      ]);
      expect(queue.paused).toBe(false);
    }
    expect(data.find((q) => q.name === 'runs')!.counts.completed).toBeGreaterThanOrEqual(2);
    expect(human.stdout).toMatch(
      /^QUEUE\s+WAITING\s+ACTIVE\s+DELAYED\s+PRIORITIZED\s+WAITING_CHILDREN\s+FAILED\s+COMPLETED\s+PAUSED$/m,
    );
  });

  it('failed list shows a job that really failed; failed retry runs it again', async () => {
    // A ping whose id Postgres refuses: the worker's real handler fails it, for good (one attempt).
    const queue = new Queue('system', {
      connection: { url: fleetEnv.REDIS_URL! },
      prefix: hashTaggedPrefix(fleetEnv.QUEUE_PREFIX!),
    });
    try {
      const job = await queue.add(
        'system.ping',
        { payload: { ping_id: 'not-a-uuid', hold_ms: 0 }, trace: {} },
        { jobId: 'cli-e2e-doomed-ping', attempts: 1 },
      );
      await eventually(async () => (await job.getState()) === 'failed', { what: 'the ping failed' });

      const listed = await herald(['failed', 'list', 'system', '--limit', '5', '--json'], operator);
      expectExit(listed, 0);
      expect(json(listed)).toEqual({
        queue: 'system',
        failed: 1,
        data: [
          {
            id: 'cli-e2e-doomed-ping',
            name: 'system.ping',
            failed_reason: expect.stringContaining('invalid input syntax for type uuid') as string,
            attempts_made: 1,
            finished_at: expect.any(String) as string,
            payload: { ping_id: 'not-a-uuid', hold_ms: 0 },
          },
        ],
      });

      const retried = await herald(['failed', 'retry', 'system', '--json'], operator);
      expectExit(retried, 0);
      expect(json(retried)).toEqual({ queue: 'system', retried: 1 });
      await eventually(
        async () => {
          const again = await queue.getJob('cli-e2e-doomed-ping');
          return again?.attemptsMade === 2 && (await again.getState()) === 'failed';
        },
        { what: 'the retried ping failed again' },
      );
      const human = await herald(['failed', 'list', 'system'], operator);
      expect(human.stdout).toMatch(/^cli-e2e-doomed-ping\s+system\.ping\s+2\s+\S+\s+invalid input syntax/m);
      expectExit(await herald(['failed', 'list', 'mailbag'], operator), 2);
    } finally {
      await queue.close();
    }
  });

  it('health: every component up (directly and through /ready), exit 0', async () => {
    const [direct, ready, human] = await Promise.all([
      herald(['health', '--json'], operator),
      herald(['health', '--url', api.publicUrl, '--json'], operator),
      herald(['health'], operator),
    ]);
    expectExit(direct, 0);
    expect(json(direct)).toMatchObject({
      status: 'up',
      components: {
        database: { status: 'up', pending_migrations: 0 },
        redis: { status: 'up' },
        workers: { status: 'up', alive: 1 },
      },
    });
    expectExit(ready, 0);
    expect(json(ready)).toMatchObject({
      status: 'up',
      service: 'herald-api',
      components: { database: { status: 'up' }, redis: { status: 'up' }, workers: { status: 'up' } },
    });
    expect(human.stdout).toMatch(/^workers\s+up\s+\d+\s+alive=1/m);
  });

  it('fails fast and clearly when Postgres, Redis or the API cannot be reached', async () => {
    const dead = await freePort();
    // One at a time: each command's own time to fail is the point, not six CLIs starting at once
    // on a CI machine's two cores (one of them once took 10.09 s that way).
    const redisDown = await herald(['health', '--json'], {
      ...operator,
      REDIS_URL: `redis://127.0.0.1:${dead}`,
    });
    const databaseDown = await herald(['health'], {
      ...operator,
      DATABASE_URL: `postgres://herald:x@127.0.0.1:${dead}/herald`,
    });
    const queues = await herald(['queues'], { ...operator, REDIS_URL: `redis://127.0.0.1:${dead}` });
    const migrate = await herald(['migrate', 'status'], {
      ...operator,
      DATABASE_URL: `postgres://herald:x@127.0.0.1:${dead}/herald`,
    });
    const importing = await herald(['contacts', 'import', join(files, 'contacts.json')], {
      ...tenantEnv,
      HERALD_API_URL: `http://127.0.0.1:${dead}`,
    });
    const readyDown = await herald(['health', '--url', `http://127.0.0.1:${dead}`], operator);
    expectExit(redisDown, 1);
    expect(json(redisDown)).toMatchObject({
      status: 'down',
      components: {
        database: { status: 'up' },
        redis: { status: 'down', error: expect.stringContaining('ECONNREFUSED') as string },
        workers: { status: 'down' },
      },
    });
    expectExit(databaseDown, 1);
    expect(databaseDown.stdout).toMatch(/^database\s+down\s+\d+\s+cannot connect to Postgres/m);
    expect(databaseDown.stdout).toContain('NOT READY');
    expect(queues).toMatchObject({ code: 4, stdout: '' });
    expect(queues.stderr).toBe(
      `herald: cannot connect to Redis (REDIS_URL): connect ECONNREFUSED 127.0.0.1:${dead}\n`,
    );
    expectExit(migrate, 4);
    expect(migrate.stderr).toContain('cannot connect to Postgres (DATABASE_URL)');
    expect(migrate.stderr).not.toContain(':x@'); // never the password
    expectExit(importing, 4);
    expect(importing.stderr).toContain(`cannot reach the API at http://127.0.0.1:${dead}`);
    expectExit(readyDown, 4);
    for (const result of [redisDown, databaseDown, queues, migrate, importing, readyDown]) {
      expect(result.ms).toBeLessThan(10_000);
    }
  });

  it('runs watch: an unknown run exits 3, a refused key exits 2', async () => {
    const [unknown, refused] = await Promise.all([
      herald(['runs', 'watch', '0190f5e4-9999-7c3d-8e4f-5a6b7c8d9e0f', '--json'], tenantEnv),
      herald(['runs', 'watch', '0190f5e4-9999-7c3d-8e4f-5a6b7c8d9e0f'], {
        ...tenantEnv,
        HERALD_API_KEY: 'hk_nope',
      }),
    ]);
    expectExit(unknown, 3);
    expect(json(unknown)).toEqual({
      error: {
        exit_code: 3,
        message: 'Not Found: No run "0190f5e4-9999-7c3d-8e4f-5a6b7c8d9e0f".',
        errors: [],
      },
    });
    expectExit(refused, 2);
    expect(refused.stderr).toMatch(/^herald: Unauthorized/);
  });
});
