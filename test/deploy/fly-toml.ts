import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { REPO_ROOT } from './metric-names';

/** fly.toml as data, read by a TOML 1.0 parser (smol-toml): the deploy specs check its tables, not its text. */
export function readFlyToml(): Record<string, unknown> {
  return parse(readFileSync(join(REPO_ROOT, 'fly.toml'), 'utf8'));
}
