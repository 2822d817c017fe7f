import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './metric-names';

/**
 * fly.toml as data, parsed by Python's standard tomllib: no TOML parser is a project
 * dependency, and python3 (3.11+) is on every machine that builds native addons.
 */
export function readFlyToml(): Record<string, unknown> {
  const json = execFileSync(
    'python3',
    [
      '-c',
      'import json, sys, tomllib; print(json.dumps(tomllib.load(open(sys.argv[1], "rb"))))',
      join(REPO_ROOT, 'fly.toml'),
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(json) as Record<string, unknown>;
}
