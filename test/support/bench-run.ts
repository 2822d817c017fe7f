import { runNodeScript, type ScriptResult } from '@herald/testing';
import { join } from 'node:path';

const BENCH = join(__dirname, '../../dist/bench/run.js');

/**
 * `npm run bench -- <args>` as built, to its end. The test run's Postgres and Redis (INFRA_ENV
 * in the environment) are reused.
 */
export function runBench(args: readonly string[]): Promise<ScriptResult> {
  return runNodeScript(BENCH, args, process.env);
}
