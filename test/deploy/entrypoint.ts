import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRepoFile } from './metric-names';

/** What the image's entrypoint handed to `node`: its NODE_OPTIONS, WORKER_QUEUES and arguments. */
export interface EntrypointRun {
  nodeOptions: string;
  /** Undefined when the entrypoint left it unset. */
  workerQueues: string | undefined;
  /** node's arguments: the role's main.js, then whatever the entrypoint passed on. */
  argv: string[];
}

const UNSET = '<unset>';
let printerDir: string | undefined;

/** A directory whose `node` prints its environment and arguments instead of running anything. */
function printer(): string {
  if (printerDir) return printerDir;
  printerDir = mkdtempSync(join(tmpdir(), 'herald-entrypoint-'));
  writeFileSync(
    join(printerDir, 'node'),
    `#!/bin/sh\nprintf '%s\\n' "$NODE_OPTIONS" "\${WORKER_QUEUES-${UNSET}}" "$@"\n`,
    { mode: 0o755 },
  );
  return printerDir;
}

/**
 * docker/entrypoint.sh run for real with `args` (the container's arguments: role first) and
 * exactly `env`, with `node` swapped for a printer.
 */
export function runEntrypoint(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): EntrypointRun {
  const out = execFileSync('sh', ['-c', readRepoFile('docker/entrypoint.sh'), 'herald-entrypoint', ...args], {
    env: { PATH: `${printer()}:${process.env.PATH ?? ''}`, ...env },
    encoding: 'utf8',
  });
  const [nodeOptions = '', workerQueues = UNSET, ...argv] = out.replace(/\n$/, '').split('\n');
  return { nodeOptions, workerQueues: workerQueues === UNSET ? undefined : workerQueues, argv };
}

/** V8's heap limit in MB (old generation plus three semi-spaces) for a process given `nodeOptions`. */
export function v8HeapLimitMb(nodeOptions: string): number {
  return Number(
    execFileSync(
      process.execPath,
      ['-p', "Math.round(require('v8').getHeapStatistics().heap_size_limit / 1048576)"],
      { env: { NODE_OPTIONS: nodeOptions }, encoding: 'utf8' },
    ),
  );
}
