import type { ZodType } from 'zod';
import { CliError, EXIT } from './exit-codes';

/** A command-line value through the schema the API uses for it; a refusal is a usage error naming the option. */
export function parseInput<T>(schema: ZodType<T>, value: unknown, option: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new CliError(EXIT.usage, `${option} ${parsed.error.issues.map((i) => i.message).join('; ')}`);
}

/**
 * The id check of the API (`isUuid` of @herald/contacts), repeated here so the tenant commands,
 * which need no lib, do not load one for a regular expression (about a second of start-up).
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isId(value: string): boolean {
  return UUID.test(value);
}

/** An id the API would take: anything else is a usage error, not a lookup. */
export function parseId(value: string, what: string): string {
  if (!isId(value)) throw new CliError(EXIT.usage, `${what} must be a UUID (got ${JSON.stringify(value)})`);
  return value.toLowerCase();
}

/** A positive whole number option (`--limit 20`). */
export function parseCount(value: string, option: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) {
    throw new CliError(EXIT.usage, `${option} must be a whole number from 1 to ${max} (got ${value})`);
  }
  return n;
}
