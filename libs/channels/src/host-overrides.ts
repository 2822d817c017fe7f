import type { HostOverride } from '@herald/config';

/** The override for a name, the first that matches; exact names and wildcard suffixes. */
export function findHostOverride(
  overrides: readonly HostOverride[],
  hostname: string,
): HostOverride | undefined {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return overrides.find((o) =>
    o.pattern.startsWith('*.') ? name.endsWith(o.pattern.slice(1)) : name === o.pattern,
  );
}
