import { CronExpressionParser } from 'cron-parser';
import { DateTime, IANAZone } from 'luxon';
import { isValidTimeZone } from './time-zone';

/** Days of the week as the API spells them, Monday first. */
export const WEEKDAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAY_NAMES)[number];

/**
 * A run a day at `at` (HH:MM local time) on `days` (default every day), in `timeZone` (IANA).
 *
 * Slots are what BullMQ's job scheduler fires for `cronPattern(s)` with `tz: timeZone`, with at
 * most one slot per local date. Across DST changes (cron-parser 5, which BullMQ uses):
 * - a local time that does not exist (02:30 on the spring-forward day in Europe/Paris or
 *   America/New_York) fires once, at that time read with the offset before the change: 03:30
 *   local, an hour late. `nextSlot` keeps this, so it matches BullMQ.
 * - a local time that exists twice (02:30 Paris / 01:30 New York on the fall-back day) fires at
 *   its first occurrence only. cron-parser's `next()` from the first occurrence skips the second,
 *   so BullMQ's scheduler, which computes each job's successor from the job's own time, fires
 *   once too. BullMQ computes from the current time instead when the job is late or the scheduler
 *   is upserted, and from inside the repeated hour it does fire the second occurrence: runs are
 *   keyed by `localDate`, so that second job finds its day's run taken and does nothing.
 *   `nextSlot` and `previousSlot` never return a second slot on a local date.
 * Both functions call only cron-parser's `next()`, the method BullMQ calls: its `prev()`
 * disagrees around DST (it misses the shifted spring-forward slot and returns both fall-back
 * occurrences). cron-parser 5.10 throws ("loop limit exceeded") for on-the-hour times across the
 * half-hour fall-back of Australia/Lord_Howe; BullMQ swallows the error and adds no next job, so
 * that scheduler stops until upserted again. These functions carry on by the same rules there.
 */
export interface DailySchedule {
  /** Local time of day, HH:MM (00:00 to 23:59). */
  at: string;
  /** Days the schedule fires on; absent means every day. */
  days?: readonly Weekday[];
  timeZone: string;
}

/** cron's day-of-week numbers (Sunday is 0). */
const CRON_DAY: Record<Weekday, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

/** The pattern for BullMQ's `upsertJobScheduler(id, { pattern, tz: s.timeZone })`: `M H * * dow`. */
export function cronPattern(s: DailySchedule): string {
  const { hour, minute } = parseLocalTime(s.at);
  return `${minute} ${hour} * * ${cronDays(s.days)}`;
}

/** The first slot strictly after `after`. */
export function nextSlot(s: DailySchedule, after: Date | number): Date {
  const pattern = cronPattern(s);
  let slot = cronNext(pattern, s.timeZone, toMs(after));
  // A slot is kept only if it is the first firing of its local date; a repeat (the second
  // occurrence of a fall-back hour) is skipped. Two skips at most can happen in a row.
  for (let i = 0; i < 4; i++) {
    if (firstFiringOn(pattern, s.timeZone, localDate(slot, s.timeZone)) === slot) return new Date(slot);
    slot = cronNext(pattern, s.timeZone, slot);
  }
  throw new Error(
    `no slot found for ${pattern} in ${s.timeZone} after ${new Date(toMs(after)).toISOString()}`,
  );
}

/** The last slot at or before `atOrBefore`. */
export function previousSlot(s: DailySchedule, atOrBefore: Date | number): Date {
  const pattern = cronPattern(s);
  const ms = toMs(atOrBefore);
  const days = weekdaySet(s.days);
  const allowed = (day: DateTime) => days.has(WEEKDAY_NAMES[day.weekday - 1]!);
  let day = DateTime.fromMillis(ms, { zone: s.timeZone }).startOf('day');
  // A week back always holds an allowed day; the extra days cover a slot moved out of its day.
  for (let i = 0; i < 15; i++) {
    const before = day.minus({ days: 1 }).startOf('day');
    // Skip days without a firing (cron-parser is slow); a DST gap may push one a day late.
    if (allowed(day) || allowed(before)) {
      const slot = firstFiringOn(pattern, s.timeZone, day.toISODate()!);
      if (slot !== undefined && slot <= ms) return new Date(slot);
    }
    day = before;
  }
  throw new Error(`no slot found for ${pattern} in ${s.timeZone} before ${new Date(ms).toISOString()}`);
}

/** The local calendar date ('YYYY-MM-DD') of `instant` in `zone`: the day a slot's run belongs to. */
export function localDate(instant: Date | number, zone: string): string {
  if (!isValidTimeZone(zone)) throw new RangeError(`not an IANA time zone: ${JSON.stringify(zone)}`);
  return DateTime.fromMillis(toMs(instant), { zone }).toISODate()!;
}

/** HH:MM as numbers; throws on anything else. */
export function parseLocalTime(time: string): { hour: number; minute: number } {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time);
  if (!match) throw new RangeError(`not a local time of day (HH:MM): ${JSON.stringify(time)}`);
  return { hour: Number(match[1]), minute: Number(match[2]) };
}

/** The allowed days as a set of names; `undefined` means every day. Throws on an empty or unknown list. */
export function weekdaySet(days: readonly Weekday[] | undefined): ReadonlySet<Weekday> {
  if (days === undefined) return new Set(WEEKDAY_NAMES);
  if (days.length === 0) throw new RangeError('days must name at least one day');
  for (const day of days) {
    if (!WEEKDAY_NAMES.includes(day)) throw new RangeError(`not a weekday: ${JSON.stringify(day)}`);
  }
  return new Set(days);
}

function cronDays(days: readonly Weekday[] | undefined): string {
  const set = weekdaySet(days);
  if (set.size === WEEKDAY_NAMES.length) return '*';
  return [...set]
    .map((day) => CRON_DAY[day])
    .sort((a, b) => a - b)
    .join(',');
}

/** The first firing at or after the start of local `date` if it falls on that date. */
function firstFiringOn(pattern: string, zone: string, date: string): number | undefined {
  const start = DateTime.fromISO(date, { zone }).startOf('day').toMillis();
  // cron-parser drops the milliseconds and looks strictly after: from start - 1 ms it finds start.
  const slot = cronNext(pattern, zone, start - 1);
  return localDate(slot, zone) === date ? slot : undefined;
}

/**
 * What BullMQ's job scheduler computes for a pattern without startDate. cron-parser 5.10 gives up,
 * after about four seconds, on on-the-hour slots across the half-hour fall-back of
 * Australia/Lord_Howe (the only failures in a scan of every zone through 2025–2026); BullMQ
 * swallows that error and adds no next job, so its scheduler stops there. Near a DST change that
 * is not whole hours we compute by the same rules instead: the first occurrence of the time, or,
 * when a change skips it, the time read with the offset before the change.
 */
function cronNext(pattern: string, zone: string, afterMs: number): number {
  if (!isValidTimeZone(zone)) throw new RangeError(`not an IANA time zone: ${JSON.stringify(zone)}`);
  // cron-parser takes seconds to give up, so it is not asked near a change that is not whole hours.
  const iana = IANAZone.create(zone);
  const offsets = [afterMs - DAY, afterMs, afterMs + 9 * DAY].map((x) => iana.offset(x));
  if (offsets.some((offset) => (offset - offsets[1]!) % 60 !== 0))
    return nextByLocalTime(pattern, zone, afterMs);
  try {
    return CronExpressionParser.parse(pattern, { currentDate: new Date(afterMs), tz: zone })
      .next()
      .getTime();
  } catch {
    return nextByLocalTime(pattern, zone, afterMs);
  }
}

function nextByLocalTime(pattern: string, zone: string, afterMs: number): number {
  const [minute, hour, , , dow] = pattern.split(' ');
  const days = dow === '*' ? undefined : new Set(dow!.split(',').map(Number));
  const iana = IANAZone.create(zone);
  const today = Math.floor(wallClock(iana, afterMs) / DAY) * DAY;
  for (let day = today - DAY; day <= today + 8 * DAY; day += DAY) {
    if (days && !days.has(new Date(day).getUTCDay())) continue;
    const placed = placeLocalTime(iana, day + (Number(hour) * 60 + Number(minute)) * MINUTE);
    const slot = 'occurrences' in placed ? placed.occurrences[0] : placed.shifted;
    if (slot > afterMs) return slot;
  }
  throw new Error(`no slot for ${pattern} in ${zone} after ${new Date(afterMs).toISOString()}`);
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Where a local date-time of a zone falls. */
export type LocalTimePlacement =
  /** The instants the clock reads it: one, or two in a repeated hour (earliest first). */
  | { readonly occurrences: readonly [number, ...number[]] }
  /** A DST change skips it: the change itself, and the time read with the offset before the change. */
  | { readonly skippedAt: number; readonly shifted: number };

/** Places `wall`, a local date-time of `zone` written as if it were UTC epoch ms. */
export function placeLocalTime(zone: IANAZone, wall: number): LocalTimePlacement {
  // Offsets lie within ±15 hours, so the offsets in force 15 hours either side are the
  // candidates (a zone changes offset at most once in so short a span).
  const offsets = new Set([wall - 15 * HOUR, wall, wall + 15 * HOUR].map((x) => zone.offset(x)));
  const occurrences: number[] = [];
  let before = -Infinity;
  let after = Infinity;
  for (const offset of offsets) {
    const x = wall - offset * MINUTE;
    const reads = wallClock(zone, x);
    if (reads === wall) occurrences.push(x);
    else if (reads < wall) before = Math.max(before, x);
    else after = Math.min(after, x);
  }
  const [first, ...others] = occurrences.sort((a, b) => a - b);
  if (first !== undefined) return { occurrences: [first, ...others] };
  if (before === -Infinity || after === Infinity)
    throw new Error(`cannot place ${new Date(wall).toISOString()}`);
  // The clock jumps over `wall` between `before` and `after`: find the jump. `after` is the time
  // read with the offset before the change.
  const shifted = after;
  while (after - before > 1) {
    const mid = Math.floor((before + after) / 2);
    if (wallClock(zone, mid) >= wall) after = mid;
    else before = mid;
  }
  return { skippedAt: after, shifted };
}

/** What the clock of `zone` reads at `ms`, written as UTC epoch ms. */
export function wallClock(zone: IANAZone, ms: number): number {
  return ms + zone.offset(ms) * MINUTE;
}

function toMs(instant: Date | number): number {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`not an instant: ${String(instant)}`);
  return ms;
}
