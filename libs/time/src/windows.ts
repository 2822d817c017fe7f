import { DateTime } from 'luxon';
import { isValidTimeZone } from './time-zone';

/** The calendar windows quotas are counted in. Weeks start on Monday 00:00 local time. */
export type WindowUnit = 'hour' | 'day' | 'week';

export const WINDOW_UNITS: readonly WindowUnit[] = ['hour', 'day', 'week'];

/** One calendar window in a time zone: [start, end). `end` is when the window resets. */
export interface TimeWindow {
  readonly unit: WindowUnit;
  /**
   * Stable, human-readable id, unique per zone and unit:
   * `hour:2026-11-01T01-04:00` (local hour and UTC offset, so the hour a DST change repeats
   * gets two ids), `day:2026-03-29`, `week:2026-W13` (ISO week-numbering year and week).
   */
  readonly id: string;
  readonly zone: string;
  readonly startMs: number;
  /** Exclusive end, which is also the reset instant. */
  readonly endMs: number;
}

/**
 * The `unit` window of `zone` that contains `instant`. Local calendar arithmetic (luxon), so a
 * day is 23 or 25 hours long across a DST change and a week spanning one is 167 or 169 hours.
 */
export function windowAt(unit: WindowUnit, zone: string, instant: Date | number): TimeWindow {
  if (!isValidTimeZone(zone)) throw new RangeError(`not an IANA time zone: ${JSON.stringify(zone)}`);
  const at = DateTime.fromMillis(typeof instant === 'number' ? instant : instant.getTime(), { zone });
  if (!at.isValid) throw new RangeError(`not an instant: ${String(instant)}`);
  switch (unit) {
    case 'hour': {
      // Subtracting the local minutes keeps the right offset inside a repeated hour, where
      // luxon's startOf('hour') may resolve the ambiguous local time to the other offset.
      const startMs = at.toMillis() - (at.minute * 60_000 + at.second * 1000 + at.millisecond);
      const start = DateTime.fromMillis(startMs, { zone });
      return {
        unit,
        zone,
        startMs,
        endMs: startMs + 3_600_000,
        id: `hour:${start.toFormat("yyyy-MM-dd'T'HH")}${start.toFormat('ZZ')}`,
      };
    }
    case 'day': {
      const start = at.startOf('day');
      return {
        unit,
        zone,
        startMs: start.toMillis(),
        endMs: start.plus({ days: 1 }).startOf('day').toMillis(),
        id: `day:${start.toFormat('yyyy-MM-dd')}`,
      };
    }
    case 'week': {
      const start = at.startOf('week');
      return {
        unit,
        zone,
        startMs: start.toMillis(),
        endMs: start.plus({ weeks: 1 }).startOf('day').toMillis(),
        id: `week:${start.toFormat("kkkk-'W'WW")}`,
      };
    }
  }
}

/** The windows of several units at once (for example every window an account has a quota in). */
export function windowsAt(units: readonly WindowUnit[], zone: string, instant: Date | number): TimeWindow[] {
  return units.map((unit) => windowAt(unit, zone, instant));
}

/** The window right after `window` (the one starting at its end). */
export function nextWindow(window: TimeWindow): TimeWindow {
  return windowAt(window.unit, window.zone, window.endMs);
}
