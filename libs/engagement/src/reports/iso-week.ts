import { DateTime } from 'luxon';

/** An ISO 8601 week, as the API names it: `2026-W49`. */
export const ISO_WEEK = /^(\d{4})-W(\d{2})$/;

/** The week's bounds in `zone`: Monday 00:00 local to the next Monday 00:00; null for no such week. */
export function weekBounds(week: string, zone: string): { from: Date; to: Date } | null {
  const m = ISO_WEEK.exec(week);
  if (!m) return null;
  const weekYear = Number(m[1]);
  const weekNumber = Number(m[2]);
  const start = DateTime.fromObject({ weekYear, weekNumber, weekday: 1 }, { zone });
  // Luxon rolls W53 of a 52-week year over into the next year: that week does not exist.
  if (!start.isValid || start.weekYear !== weekYear || start.weekNumber !== weekNumber) return null;
  return { from: start.toJSDate(), to: start.plus({ weeks: 1 }).toJSDate() };
}

/** The ISO week an instant falls in, in `zone`. */
export function weekOf(instant: Date, zone: string): string {
  const local = DateTime.fromJSDate(instant, { zone });
  return `${local.weekYear}-W${String(local.weekNumber).padStart(2, '0')}`;
}

/** The last week that has ended, in `zone`. */
export function lastCompletedWeek(now: Date, zone: string): string {
  return weekOf(DateTime.fromJSDate(now, { zone }).minus({ weeks: 1 }).toJSDate(), zone);
}

/**
 * The week whose report is due at `now` in `zone`: the week just ended, from Monday `hour`
 * local on (and for the rest of the week, so a beat that was down on Monday still sends it);
 * before that on Monday, none.
 */
export function dueReportWeek(now: Date, zone: string, hour: number): string | null {
  const local = DateTime.fromJSDate(now, { zone });
  if (local.weekday === 1 && local.hour < hour) return null;
  return lastCompletedWeek(now, zone);
}

/** The local dates (YYYY-MM-DD) of a week, Monday first. */
export function weekDates(week: string, zone: string): string[] {
  const bounds = weekBounds(week, zone);
  if (!bounds) return [];
  const monday = DateTime.fromJSDate(bounds.from, { zone });
  return Array.from({ length: 7 }, (_, i) => monday.plus({ days: i }).toISODate()!);
}
