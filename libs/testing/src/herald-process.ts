import { roleNodeOptions, type HeraldRole } from '@herald/config';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export type LogLine = Record<string, unknown> & { msg?: string; level?: string; service?: string };

export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef0123456789';
const TEST_ENCRYPTION_KEY = `t1:${'ab'.repeat(32)}`;

/** The variables every test process needs; callers add DATABASE_URL, REDIS_URL, QUEUE_PREFIX… */
export function testEnvironment(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    OPS_PORT: '0',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    HERALD_ADMIN_KEY: TEST_ADMIN_KEY,
    HERALD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    SHUTDOWN_GRACE_MS: '5000',
    WORKER_HEARTBEAT_INTERVAL_MS: '500',
    WORKER_HEARTBEAT_MAX_AGE_MS: '3000',
    READY_TIMEOUT_MS: '1000',
    ...overrides,
  };
}

const ROOT = join(__dirname, '../../..');
function entry(role: string): string {
  // Works from the TypeScript sources (jest) and from dist/ alike: both resolve into dist/.
  const base = ROOT.endsWith('dist') ? ROOT : join(ROOT, 'dist');
  return join(base, 'apps', role, 'src', 'main.js');
}

/**
 * A real Herald process (`node dist/apps/<role>/src/main.js`) whose JSON log lines the test can
 * read and wait on, and which the test can signal like an orchestrator would.
 */
export class HeraldProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  port: number | undefined;
  opsPort: number | undefined;
  private readonly waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];

  private constructor(
    readonly role: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    createInterface({ input: child.stdout! }).on('line', (text) => this.onLine(text));
    createInterface({ input: child.stderr! }).on('line', (text) => this.stderr.push(text));
  }

  /** Starts the role and resolves once it is listening (its ports are then known). */
  static async start(
    role: HeraldRole,
    env: Record<string, string>,
    // A bound, not a timing: several processes booting at once on a loaded 2-core machine can
    // take tens of seconds to listen; a process that never does still fails the test.
    timeoutMs = 90_000,
  ): Promise<HeraldProcess> {
    // The role's V8 flags, as every entry point gives them (ROLE_NODE_FLAGS); env's NODE_OPTIONS wins.
    const child = spawn(process.execPath, [entry(role)], {
      env: { PATH: process.env.PATH ?? '', ...env, NODE_OPTIONS: roleNodeOptions(role, env) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new HeraldProcess(role, child);
    let listening: LogLine;
    try {
      listening = await Promise.race([
        proc.waitFor(
          (l) => typeof l.msg === 'string' && l.msg.endsWith(' listening') && 'ops_port' in l,
          timeoutMs,
        ),
        proc.exited.then(({ code }) => {
          throw new Error(`${role} exited with code ${code} before listening:\n${proc.stderr.join('\n')}`);
        }),
      ]);
    } catch (error) {
      proc.signal('SIGKILL'); // never leave a half-started process behind (it would keep jest alive)
      throw error;
    }
    proc.port = typeof listening.port === 'number' ? listening.port : undefined;
    proc.opsPort = listening.ops_port as number;
    return proc;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get publicUrl(): string {
    if (this.port === undefined) throw new Error(`${this.role} has no public port`);
    return `http://127.0.0.1:${this.port}`;
  }

  get opsUrl(): string {
    return `http://127.0.0.1:${this.opsPort}`;
  }

  /** Resolves with the first log line (already seen or still to come) that matches. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve };
      this.waiters.push(waiter);
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(
          new Error(`${this.role}: no matching log line within ${timeoutMs} ms; last lines:\n${this.tail()}`),
        );
      }, timeoutMs);
      waiter.resolve = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** SIGTERM and wait for the exit; SIGKILL if it has not exited after `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  tail(n = 20): string {
    return [...this.lines.slice(-n).map((l) => JSON.stringify(l)), ...this.stderr.slice(-n)].join('\n');
  }

  private onLine(text: string): void {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { msg: text, raw: true };
    }
    this.lines.push(line);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(line)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  }
}
