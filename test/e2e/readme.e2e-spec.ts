import {
  createTestDatabase,
  eventually,
  freePort,
  freePortRun,
  testRedisPrefix,
  testRedisUrl,
  type TestDatabase,
} from '@herald/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { holdDevFleetLock } from '../support/dev-fleet-lock';

jest.setTimeout(600_000);

const ROOT = join(__dirname, '../..');

interface ShellResult {
  code: number | null;
  output: string;
}

/**
 * What the README promises a newcomer: every shell block copy-pastes and works. Each ```sh block of
 * README.md is either run here, as written, against a dev fleet started the way the README says
 * (`npm run dev`, i.e. dist/scripts/dev.js, with its demo) — only the fleet's ports, data
 * directory and scratch files substituted — or listed below with the reason it cannot run in a
 * test. A new block that is neither fails this test, so the README cannot grow an untested command.
 */
const NOT_RUN_HERE: Record<string, string> = {
  'npm install --prefix ~/.node24': '.ci/run installs Node 24 with this same npm package',
  'npm ci': 'installs and starts the fleet; this test runs the fleet the same way (dist/scripts/dev.js)',
};

/** A block's expectations on its output, by a line that identifies it. */
const RUN_HERE: Record<string, (result: ShellResult) => void> = {
  'v1/system/pings': (r) => {
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/"status":"processed"/);
  },
  'createServer(': (r) => {
    expect(r.code).toBe(0);
    expect(r.output.match(/^got \S+/gm)).toHaveLength(3); // the receiver: one line per delivery
    expect(r.output).toMatch(/"status":"completed"/);
    expect(r.output).toMatch(/"sent":3\b/);
    expect(r.output).toMatch(/"used":3\b/);
  },
  // Before '. .data/cli.env' (the first sign a block includes wins): the sourcing demo's block.
  'herald sourcing runs show': (r) => {
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/Bakeries from the dev directory/); // jobs list: the demo's job
    expect(r.output).toMatch(/^sourcing run [0-9a-f-]{36} \w+/m); // runs show: the demo's run
  },
  '. .data/cli.env': (r) => {
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/^database\s+up/m);
    expect(r.output).toMatch(/Spring product update/); // campaigns list: the demo's campaigns
    expect(r.output).toMatch(/^created\s+1$/m); // contacts import: the one row
  },
};

function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
}

/** A block in bash, as pasted into a terminal (with `set -e`: a failing line fails the block). */
function runShell(script: string, env: Record<string, string>): Promise<ShellResult> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-eo', 'pipefail', '-c', `set -m\n${script}`], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('the README, as written', () => {
  let db: TestDatabase;
  let dataDir: string;
  let dev: ChildProcess | undefined;
  const lines: string[] = [];
  let port: number;

  let releaseFleetLock: (() => void) | undefined;

  beforeAll(async () => {
    // The other spec running the dev fleet finishes first (they share the demo's fixed ports).
    releaseFleetLock = await holdDevFleetLock();
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'herald-readme-'));
    chmodSync(dataDir, 0o755);
    port = await freePort();
    dev = spawn(
      process.execPath,
      [join(ROOT, 'dist/scripts/dev.js'), '--contacts', '20', '--data-dir', dataDir],
      {
        env: {
          PATH: process.env.PATH ?? '',
          DATABASE_URL: db.url,
          REDIS_URL: testRedisUrl(),
          QUEUE_PREFIX: testRedisPrefix(),
          PORT: String(port),
          OPS_PORT: String(await freePortRun()),
          SHUTDOWN_GRACE_MS: '5000',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    createInterface({ input: dev.stdout! }).on('line', (l) => lines.push(l));
    createInterface({ input: dev.stderr! }).on('line', (l) => lines.push(`stderr: ${l}`));
    await eventually(
      () => Promise.resolve(lines.some((l) => l.includes('Where to look')) || dev?.exitCode !== null),
      {
        timeoutMs: 150_000,
        intervalMs: 200,
        what: `the dev fleet settled\n${lines.slice(-20).join('\n')}`,
      },
    );
    if (dev.exitCode !== null) throw new Error(`dev script exited:\n${lines.join('\n')}`);
  });

  afterAll(async () => {
    if (dev && dev.exitCode === null) {
      const exited = new Promise((resolve) => dev!.once('exit', resolve));
      dev.kill('SIGINT');
      await exited;
    }
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    releaseFleetLock?.();
  });

  it('every ```sh block either runs against the dev fleet with the output it promises, or says why not', async () => {
    const blocks = shellBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(blocks.length).toBeGreaterThanOrEqual(Object.keys(RUN_HERE).length);
    const receiverPort = await freePort();
    const scratch = join(dataDir, 'readme-contacts.csv');
    let ran = 0;
    for (const block of blocks) {
      const skip = Object.keys(NOT_RUN_HERE).find((sign) => block.includes(sign));
      if (skip) continue;
      const sign = Object.keys(RUN_HERE).find((s) => block.includes(s));
      if (!sign) throw new Error(`README block neither run nor excused by this test:\n${block}`);
      const script = block
        .replaceAll('localhost:3000', `127.0.0.1:${port}`)
        .replaceAll('127.0.0.1:3000', `127.0.0.1:${port}`)
        .replaceAll('4000', String(receiverPort))
        .replaceAll('.data/', `${dataDir}/`)
        .replaceAll('contacts.csv', scratch);
      const result = await runShell(script, {});
      try {
        RUN_HERE[sign]!(result);
      } catch (error) {
        throw new Error(
          `README block failed (exit ${String(result.code)}):\n${block}\n--- its output:\n${result.output}`,
          {
            cause: error,
          },
        );
      }
      ran += 1;
    }
    expect(ran).toBe(Object.keys(RUN_HERE).length);
  });
});
