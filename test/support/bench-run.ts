import { spawn } from 'node:child_process';
import { join } from 'node:path';

const BENCH = join(__dirname, '../../dist/bench/run.js');

/**
 * `npm run bench -- <args>` as built, to its end: its exit code and what it printed. The test
 * run's Postgres and Redis (INFRA_ENV in the environment) are reused.
 */
export function runBench(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH, ...args], {
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
