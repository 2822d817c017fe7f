import { IANAZone } from 'luxon';
import { parseLocalTime, placeLocalTime, wallClock, weekdaySet, type Weekday } from './schedule';
import { isValidTimeZone } from './time-zone';

/**
 * When deliveries may go out: from `start` to `end` (HH:MM local time) on `days` (default every
 * day) in `timeZone`. An `end` before `start` runs past midnight, and `days` names the day the
 * window opens: Friday 22:00–06:00 includes Saturday 03:00.
 *
 * Each allowed day opens one window, [open, close), where each bound is the first instant the
 * local wall clock reads that time or later. Across DST changes:
 * - a start or end that does not exist (02:30 on a spring-forward day) becomes the change itself
 *   (03:00 local); a window lying wholly inside the skipped hour does not open that day;
 * - a start or end that exists twice (01:30 on a fall-back day) is its first occurrence;
 * - so an overnight window is an hour shorter or longer when it spans a change (22:00–06:00 is
 *   7 or 9 hours), like the 23- and 25-hour days it crosses.
 */
export interface SendWindowSpec {
  start: string;
  end: string;
  /** The days the window opens on; absent means every day. */
  days?: readonly Weekday[];
  timeZone: string;
}

/** Whether `instant` is inside one of the window's openings. */
export function isInsideWindow(w: SendWindowSpec, instant: Date | number): boolean {
  const ms = toMs(instant);
  return nextOpening(w, ms).getTime() === ms;
}

/** `instant` itself when it is inside the window, otherwise the instant the window next opens. */
export function nextOpening(w: SendWindowSpec, instant: Date | number): Date {
  const ms = toMs(instant);
  const window = compile(w);
  // Openings never overlap and follow the order of their days, so the first one still open at
  // `ms` is the answer. Starting two days back covers an overnight window opened yesterday (and
  // a local date that a fall-back at midnight moved back). A week ahead always holds an allowed
  // day; the extra day covers an allowed day whose window fell wholly inside a DST gap.
  const today = Math.floor(wallClock(window.zone, ms) / DAY) * DAY;
  for (let day = today - 2 * DAY; day <= today + 9 * DAY; day += DAY) {
    const opening = openingOn(window, day);
    if (opening && opening.close > ms) return new Date(Math.max(opening.open, ms));
  }
  throw new Error(`the window ${w.start}–${w.end} never opens in ${w.timeZone}`);
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

interface CompiledWindow {
  zone: IANAZone;
  /** Minutes after local midnight. */
  start: number;
  end: number;
  /** Allowed opening days by JavaScript day number (Sunday is 0). */
  days: ReadonlySet<number>;
}

const DAY_NUMBER: Record<Weekday, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

function compile(w: SendWindowSpec): CompiledWindow {
  if (!isValidTimeZone(w.timeZone))
    throw new RangeError(`not an IANA time zone: ${JSON.stringify(w.timeZone)}`);
  const start = minutes(w.start);
  const end = minutes(w.end);
  if (start === end) throw new RangeError(`a window must end at another time than it starts (${w.start})`);
  const days = new Set([...weekdaySet(w.days)].map((day) => DAY_NUMBER[day]));
  return { zone: IANAZone.create(w.timeZone), start, end, days };
}

/** The opening of the window on the local day `day` (its midnight as UTC epoch ms), if any. */
function openingOn(w: CompiledWindow, day: number): { open: number; close: number } | undefined {
  if (!w.days.has(new Date(day).getUTCDay())) return undefined;
  const open = firstReached(w.zone, day + w.start * MINUTE);
  const close = firstReached(w.zone, day + (w.end < w.start ? DAY : 0) + w.end * MINUTE);
  return open < close ? { open, close } : undefined;
}

/** The first instant the clock reads `wall` or later: its first occurrence, or the change that skips it. */
function firstReached(zone: IANAZone, wall: number): number {
  const placed = placeLocalTime(zone, wall);
  return 'occurrences' in placed ? placed.occurrences[0] : placed.skippedAt;
}

function minutes(time: string): number {
  const { hour, minute } = parseLocalTime(time);
  return hour * 60 + minute;
}

function toMs(instant: Date | number): number {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`not an instant: ${String(instant)}`);
  return ms;
}
