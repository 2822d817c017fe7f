import {
  callApi,
  createTestDatabase,
  eventually,
  FakeDirectory,
  HeraldProcess,
  RedisServer,
  TEST_ADMIN_KEY,
  testEnvironment,
  testRedisPrefix,
  type TestDatabase,
  createTenant,
} from '@herald/testing';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { directoryAccount } from '../support/sourcing-fixture';

jest.setTimeout(120_000);

const CLI = join(__dirname, '../../dist/apps/cli/src/main.js');
const API_KEY = 'cli-directory-key';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function herald(args: readonly string[], env: Record<string, string>): Promise<Result> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

function json<T>(result: Result, code = 0): T {
  if (result.code !== code)
    throw new Error(`exit ${result.code}, expected ${code}\n${result.stdout}\n--- stderr:\n${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

type SourcingRun = { id: string; status: string; discovered: number; forecast: { requests: number } | null };

/** `herald sourcing …` against a real api + worker and the fake directory. */
describe('herald sourcing commands', () => {
  let db: TestDatabase;
  let redis: RedisServer;
  let directory: FakeDirectory;
  let dir: string;
  const processes: HeraldProcess[] = [];

  beforeAll(async () => {
    [db, redis, directory] = await Promise.all([
      createTestDatabase(),
      RedisServer.start(),
      FakeDirectory.start({ seed: 5, count: 1000, apiKey: API_KEY }),
    ]);
    dir = mkdtempSync(join(tmpdir(), 'herald-sourcing-cli-'));
  });
  afterAll(async () => {
    await Promise.all(processes.filter((p) => p.running).map((p) => p.stop()));
    await directory?.stop();
    await redis?.destroy();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates and lists jobs, starts, shows, pauses, resumes and cancels runs, and lists candidates', async () => {
    const env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: testRedisPrefix(),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
    });
    const [api, worker] = await Promise.all([
      HeraldProcess.start('api', env),
      HeraldProcess.start('worker', env),
    ]);
    processes.push(api, worker);
    const tenant = await createTenant(api.publicUrl, TEST_ADMIN_KEY, 'Cli');
    const key = tenant.key;
    const cliEnv = { HERALD_API_URL: api.publicUrl, HERALD_API_KEY: key };
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const modelId = '0190f5e4-aaaa-7c3d-8e4f-5a6b7c8d9e0f';
    await client.query(`INSERT INTO scoring_models (tenant_id, id, name) VALUES ($1, $2, 'm')`, [
      tenant.id,
      modelId,
    ]);
    await client.end();
    const accountId = await directoryAccount(
      <T>(method: string, path: string, body?: unknown) => callApi<T>(api.publicUrl, method, path, key, body),
      { directory, pageSize: 10 },
    );
    const file = join(dir, 'job.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'Florists',
        source_account_id: accountId,
        criteria: { category: 'florist' },
        limit: 30,
        scoring_model_id: modelId,
      }),
    );
    const job = json<{ id: string; name: string }>(
      await herald(['sourcing', 'jobs', 'create', file, '--json'], cliEnv),
    );
    expect(job.name).toBe('Florists');
    const listed = json<{ data: { id: string }[] }>(
      await herald(['sourcing', 'jobs', 'list', '--json'], cliEnv),
    );
    expect(listed.data.map((j) => j.id)).toEqual([job.id]);
    const human = await herald(['sourcing', 'jobs', 'list'], cliEnv);
    expect(human.stdout).toContain('Florists');

    const dry = json<SourcingRun>(
      await herald(['sourcing', 'runs', 'start', job.id, '--dry-run', '--json'], cliEnv),
    );
    expect(dry.forecast).toMatchObject({ requests: 3 });

    const started = json<SourcingRun>(await herald(['sourcing', 'runs', 'start', job.id, '--json'], cliEnv));
    const found = await eventually(
      async () => {
        const shown = json<SourcingRun>(
          await herald(['sourcing', 'runs', 'show', started.id, '--json'], cliEnv),
        );
        return shown.discovered === 30 ? shown : undefined;
      },
      { what: 'run found its limit', timeoutMs: 60_000, intervalMs: 300 },
    );
    expect(found.status).toBe('running'); // its candidates wait for qualifying
    const shownText = await herald(['sourcing', 'runs', 'show', started.id], cliEnv);
    expect(shownText.stdout).toContain('found 30 new');

    const page = json<{ data: { stage: string }[]; next_cursor: string | null }>(
      await herald(
        ['sourcing', 'candidates', 'list', started.id, '--stage', 'discovered', '--limit', '20', '--json'],
        cliEnv,
      ),
    );
    expect(page.data).toHaveLength(20);
    expect(page.next_cursor).not.toBeNull();
    const rest = json<{ data: unknown[]; next_cursor: string | null }>(
      await herald(
        ['sourcing', 'candidates', 'list', started.id, '--cursor', page.next_cursor!, '--json'],
        cliEnv,
      ),
    );
    expect(rest.data).toHaveLength(10);

    expect(
      json<SourcingRun>(await herald(['sourcing', 'runs', 'pause', started.id, '--json'], cliEnv)).status,
    ).toBe('paused');
    expect(
      json<SourcingRun>(await herald(['sourcing', 'runs', 'resume', started.id, '--json'], cliEnv)).status,
    ).toBe('running');
    expect(
      json<SourcingRun>(await herald(['sourcing', 'runs', 'cancel', started.id, '--json'], cliEnv)).status,
    ).toBe('cancelled');
    // A cancelled run: `show` says so with exit 1.
    expect(
      json<SourcingRun>(await herald(['sourcing', 'runs', 'show', started.id, '--json'], cliEnv), 1).status,
    ).toBe('cancelled');
    const bad = await herald(['sourcing', 'jobs', 'list', '--status', 'nope'], cliEnv);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('status');
  });
});
