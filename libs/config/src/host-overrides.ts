import { isIP } from 'node:net';

/**
 * A fixed answer for a host name, like curl's --resolve: `*.sites.test=127.0.0.1` sends every
 * name under sites.test to 127.0.0.1. A development and test aid (the local fake web); the
 * address it names is still judged by the private-network rule.
 */
export interface HostOverride {
  /** A lower-case name, or `*.suffix` for every name under the suffix (not the suffix itself). */
  readonly pattern: string;
  readonly address: string;
  readonly family: 4 | 6;
}

const NAME = /^(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+$/;

/**
 * Parses `OUTBOUND_HOST_OVERRIDES`: comma-separated `pattern=ip`. Throws naming the bad entry.
 * Hand-written: nine lines of splitting, no library parses curl's --resolve syntax.
 */
export function parseHostOverrides(value: string): HostOverride[] {
  const overrides: HostOverride[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const at = entry.lastIndexOf('=');
    const pattern = entry.slice(0, at).trim().toLowerCase();
    const address = entry
      .slice(at + 1)
      .trim()
      .replace(/^\[(.*)\]$/, '$1');
    const family = isIP(address);
    if (at <= 0 || !NAME.test(pattern) || family === 0)
      throw new Error(`"${entry}" is not name=ip or *.suffix=ip`);
    overrides.push({ pattern, address, family: family === 6 ? 6 : 4 });
  }
  return overrides;
}
