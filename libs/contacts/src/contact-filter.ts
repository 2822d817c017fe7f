import { DateTime } from 'luxon';
import type { ContactStatus } from './contact-fields';

/**
 * Which contacts a list (or a campaign's audience) covers. Every field narrows; all optional.
 * The SQL for it is built in one place (ContactsRepository.page) so the API list and the
 * campaign fan-out select exactly the same contacts.
 */
export interface ContactFilter {
  /** Only these statuses. When absent, archived contacts are left out. */
  statuses?: readonly ContactStatus[];
  /** Contacts carrying every one of these tags. */
  tags?: readonly string[];
  /** month * 100 + day keys (e.g. 1231); see birthdayKeys. */
  birthMonthDays?: readonly number[];
  /** Created strictly after / before these instants. */
  createdAfter?: Date;
  createdBefore?: Date;
  /** Prefix (case-insensitive) of the email or of the full name ("first last"). */
  q?: string;
}

const MONTH_DAY = /^(\d{2})-(\d{2})$/;

/**
 * The birthday keys for `today` (in the given IANA zone) or an explicit `MM-DD`. On 28 February
 * of a common year, "today" also covers 29 February birthdays (they are greeted on the 28th).
 * Returns undefined for a month-day that does not exist.
 */
export function birthdayKeys(spec: string, timeZone: string, now: Date = new Date()): number[] | undefined {
  if (spec === 'today') {
    const local = DateTime.fromJSDate(now, { zone: timeZone });
    const keys = [local.month * 100 + local.day];
    if (local.month === 2 && local.day === 28 && !local.isInLeapYear) keys.push(229);
    return keys;
  }
  const match = MONTH_DAY.exec(spec);
  if (!match) return undefined;
  const month = Number(match[1]);
  const day = Number(match[2]);
  // 2000 is a leap year, so 02-29 is a valid month-day.
  const probe = new Date(Date.UTC(2000, month - 1, day));
  if (month < 1 || month > 12 || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day)
    return undefined;
  return [month * 100 + day];
}

/** `LIKE` pattern for a literal prefix. */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
