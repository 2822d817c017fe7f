import { IANAZone } from 'luxon';
import { z } from 'zod';

/**
 * Whether `zone` is an IANA time zone name this runtime knows (`Europe/Paris`, `UTC`,
 * `America/Argentina/Buenos_Aires`). Fixed offsets (`+02:00`) and abbreviations (`CET` aside,
 * which IANA keeps as a legacy zone) are refused: a tenant's zone must follow its DST rules.
 */
export function isValidTimeZone(zone: string): boolean {
  const known = checked.get(zone);
  if (known !== undefined) return known;
  const valid = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(zone) && IANAZone.isValidZone(zone);
  // Zone names are few and validity never changes within a process: remember the answer.
  if (checked.size < 10_000) checked.set(zone, valid);
  return valid;
}

const checked = new Map<string, boolean>();

/** The runtime's canonical spelling of a valid zone (`europe/paris` → `Europe/Paris`). */
export function canonicalTimeZone(zone: string): string {
  if (!isValidTimeZone(zone)) throw new RangeError(`not an IANA time zone: ${JSON.stringify(zone)}`);
  return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
}

/** A zod schema for API and config validation: accepts a valid IANA name and canonicalises it. */
export const timeZoneSchema = z
  .string()
  .refine(isValidTimeZone, 'must be an IANA time zone name such as Europe/Paris')
  .transform(canonicalTimeZone);
