import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The application_name of the raw list's Postgres sessions: how the bench finds their backends. */
export const RAW_LIST_APPLICATION = 'herald-raw-list';

export interface RawList {
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/** Starts bench/raw-list.ts (see there) and waits until it listens. */
export async function startRawList(options: {
  databaseUrl: string;
  redisUrl: string;
  apiKey: string;
  tenantId: string;
  poolSize: number;
}): Promise<RawList> {
  const child = spawn(
    process.execPath,
    [
      join(__dirname, 'raw-list.js'),
      options.databaseUrl,
      options.redisUrl,
      options.apiKey,
      options.tenantId,
      String(options.poolSize),
      RAW_LIST_APPLICATION,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`raw list exited with ${code} before listening`)));
  });
  return {
    pid: child.pid!,
    url: `http://127.0.0.1:${port}/v1/contacts?limit=50`,
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}
