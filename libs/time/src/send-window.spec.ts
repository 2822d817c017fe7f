import fc from 'fast-check';
import { DateTime } from 'luxon';
import { WEEKDAY_NAMES } from './schedule';
import { isInsideWindow, nextOpening, type SendWindowSpec } from './send-window';

const at = Date.parse;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const opening = (w: SendWindowSpec, from: string) => nextOpening(w, at(from)).toISOString();

/** How long the opening that starts at or after `from` lasts, scanning by the minute. */
function openLength(w: SendWindowSpec, from: string): number {
  const open = nextOpening(w, at(from)).getTime();
  let t = open;
  while (isInsideWindow(w, t)) t += 60_000;
  return t - open;
}

describe('send windows', () => {
  const office: SendWindowSpec = { start: '09:00', end: '17:00', timeZone: 'Europe/Paris' };

  it('is open from start (inclusive) to end (exclusive), local time', () => {
    // 2026-01-14 in Paris is UTC+1.
    expect(isInsideWindow(office, at('2026-01-14T07:59:59Z'))).toBe(false);
    expect(isInsideWindow(office, at('2026-01-14T08:00:00Z'))).toBe(true);
    expect(isInsideWindow(office, new Date('2026-01-14T15:59:59Z'))).toBe(true);
    expect(isInsideWindow(office, at('2026-01-14T16:00:00Z'))).toBe(false);
  });

  it('opens next at the instant itself when inside, else at the next start', () => {
    expect(opening(office, '2026-01-14T10:00:00Z')).toBe('2026-01-14T10:00:00.000Z');
    expect(opening(office, '2026-01-14T06:00:00Z')).toBe('2026-01-14T08:00:00.000Z');
    expect(opening(office, '2026-01-14T16:00:00Z')).toBe('2026-01-15T08:00:00.000Z');
  });

  it('keeps to its days: Friday evening waits for Monday', () => {
    const weekdays: SendWindowSpec = { ...office, days: ['mon', 'tue', 'wed', 'thu', 'fri'] };
    expect(isInsideWindow(weekdays, at('2026-01-17T10:00:00Z'))).toBe(false); // Saturday
    expect(opening(weekdays, '2026-01-16T17:00:00Z')).toBe('2026-01-19T08:00:00.000Z');
  });

  describe('past midnight', () => {
    const friday: SendWindowSpec = { start: '22:00', end: '06:00', days: ['fri'], timeZone: 'Europe/Paris' };
    it('belongs to the day it opens: Friday 22:00–06:00 includes Saturday 03:00, not Friday 03:00', () => {
      // Friday 2026-01-16 and Saturday 2026-01-17, UTC+1.
      expect(isInsideWindow(friday, at('2026-01-16T20:59:59Z'))).toBe(false);
      expect(isInsideWindow(friday, at('2026-01-16T21:00:00Z'))).toBe(true);
      expect(isInsideWindow(friday, at('2026-01-17T02:00:00Z'))).toBe(true);
      expect(isInsideWindow(friday, at('2026-01-17T05:00:00Z'))).toBe(false);
      expect(isInsideWindow(friday, at('2026-01-16T02:00:00Z'))).toBe(false);
      expect(isInsideWindow(friday, at('2026-01-17T21:30:00Z'))).toBe(false);
      expect(opening(friday, '2026-01-17T02:00:00Z')).toBe('2026-01-17T02:00:00.000Z');
      expect(opening(friday, '2026-01-17T05:00:00Z')).toBe('2026-01-23T21:00:00.000Z');
    });
    it('runs from one evening into the next morning every day', () => {
      const nightly: SendWindowSpec = { start: '23:30', end: '00:30', timeZone: 'America/New_York' };
      expect(isInsideWindow(nightly, at('2026-01-15T05:15:00Z'))).toBe(true); // 00:15 EST
      expect(opening(nightly, '2026-01-15T05:45:00Z')).toBe('2026-01-16T04:30:00.000Z');
      expect(openLength(nightly, '2026-01-15T05:45:00Z')).toBe(HOUR);
    });
  });

  describe('Europe/Paris spring forward (2026-03-29, 02:00 → 03:00): a 23-hour day', () => {
    const zone = 'Europe/Paris';
    it('opens a 02:30 start at 03:00 local, the change itself', () => {
      const w: SendWindowSpec = { start: '02:30', end: '05:00', timeZone: zone };
      expect(opening(w, '2026-03-28T23:00:00Z')).toBe('2026-03-29T01:00:00.000Z');
      expect(isInsideWindow(w, at('2026-03-29T00:59:59Z'))).toBe(false);
      expect(openLength(w, '2026-03-28T23:00:00Z')).toBe(2 * HOUR);
    });
    it('does not open a window that lies wholly inside the skipped hour', () => {
      const w: SendWindowSpec = { start: '02:10', end: '02:40', days: ['sun'], timeZone: zone };
      // The next Sunday, 2026-04-05 02:10 +02:00, eight days on.
      expect(opening(w, '2026-03-28T12:00:00Z')).toBe('2026-04-05T00:10:00.000Z');
    });
    it('is an hour shorter over the night of the change and all day', () => {
      expect(openLength({ start: '22:00', end: '06:00', timeZone: zone }, '2026-03-28T12:00:00Z')).toBe(
        7 * HOUR,
      );
      expect(openLength({ start: '00:00', end: '23:59', timeZone: zone }, '2026-03-28T23:00:00Z')).toBe(
        22 * HOUR + 59 * 60_000,
      );
    });
  });

  describe('Europe/Paris fall back (2026-10-25, 03:00 → 02:00): a 25-hour day', () => {
    const zone = 'Europe/Paris';
    it('is an hour longer over the night of the change and all day', () => {
      expect(openLength({ start: '22:00', end: '06:00', timeZone: zone }, '2026-10-24T12:00:00Z')).toBe(
        9 * HOUR,
      );
      expect(openLength({ start: '00:00', end: '23:59', timeZone: zone }, '2026-10-24T22:00:00Z')).toBe(
        24 * HOUR + 59 * 60_000,
      );
    });
    it('opens and closes at the first occurrence of a repeated time', () => {
      const w: SendWindowSpec = { start: '02:30', end: '03:30', timeZone: zone };
      expect(opening(w, '2026-10-24T23:00:00Z')).toBe('2026-10-25T00:30:00.000Z'); // 02:30 +02:00
      expect(openLength(w, '2026-10-24T23:00:00Z')).toBe(2 * HOUR);
      const early: SendWindowSpec = { start: '02:00', end: '02:30', timeZone: zone };
      expect(isInsideWindow(early, at('2026-10-25T00:15:00Z'))).toBe(true); // 02:15 +02:00
      expect(isInsideWindow(early, at('2026-10-25T01:15:00Z'))).toBe(false); // 02:15 +01:00, closed already
    });
  });

  describe('America/New_York', () => {
    const zone = 'America/New_York';
    it('spring forward (2026-03-08): a 02:30 start opens at 03:00 EDT; the night is an hour shorter', () => {
      expect(opening({ start: '02:30', end: '04:00', timeZone: zone }, '2026-03-08T05:00:00Z')).toBe(
        '2026-03-08T07:00:00.000Z',
      );
      expect(openLength({ start: '20:00', end: '08:00', timeZone: zone }, '2026-03-07T14:00:00Z')).toBe(
        11 * HOUR,
      );
    });
    it('fall back (2026-11-01): the night is an hour longer; 01:30 opens at 01:30 EDT', () => {
      expect(openLength({ start: '20:00', end: '08:00', timeZone: zone }, '2026-10-31T14:00:00Z')).toBe(
        13 * HOUR,
      );
      expect(opening({ start: '01:30', end: '03:00', timeZone: zone }, '2026-11-01T04:00:00Z')).toBe(
        '2026-11-01T05:30:00.000Z',
      );
    });
  });

  it('handles Asia/Kathmandu (+05:45) and Pacific/Chatham (+13:45 from 2026-09-27 02:45)', () => {
    expect(
      opening({ start: '09:00', end: '17:00', timeZone: 'Asia/Kathmandu' }, '2026-06-01T00:00:00Z'),
    ).toBe('2026-06-01T03:15:00.000Z');
    // 03:00 does not exist on 2026-09-27 in Chatham: the window opens at 03:45 +13:45.
    const chatham: SendWindowSpec = { start: '03:00', end: '06:00', timeZone: 'Pacific/Chatham' };
    expect(opening(chatham, '2026-09-26T12:00:00Z')).toBe('2026-09-26T14:00:00.000Z');
    expect(openLength(chatham, '2026-09-26T12:00:00Z')).toBe(2 * HOUR + 15 * 60_000);
  });

  it('opens on a leap day', () => {
    const tuesdays: SendWindowSpec = { start: '09:00', end: '10:00', days: ['tue'], timeZone: 'UTC' };
    expect(opening(tuesdays, '2028-02-28T12:00:00Z')).toBe('2028-02-29T09:00:00.000Z');
    expect(
      isInsideWindow(
        { start: '23:00', end: '01:00', days: ['mon'], timeZone: 'UTC' },
        at('2028-02-29T00:30:00Z'),
      ),
    ).toBe(true);
  });

  it('refuses an equal start and end, a malformed time and an unknown zone', () => {
    expect(() => isInsideWindow({ start: '09:00', end: '09:00', timeZone: 'UTC' }, 0)).toThrow(RangeError);
    expect(() => isInsideWindow({ start: '9:00', end: '10:00', timeZone: 'UTC' }, 0)).toThrow(RangeError);
    expect(() => nextOpening({ start: '09:00', end: '10:00', timeZone: 'Nowhere/Land' }, 0)).toThrow(/IANA/);
    expect(() => nextOpening({ start: '09:00', end: '10:00', days: [], timeZone: 'UTC' }, 0)).toThrow(
      RangeError,
    );
  });
});

describe('send window properties', () => {
  const zones = [
    'UTC',
    'Europe/Paris',
    'America/New_York',
    'America/Santiago',
    'America/Havana',
    'Asia/Kathmandu',
    'Africa/Cairo',
    'Pacific/Chatham',
    'Pacific/Apia',
    'Australia/Lord_Howe',
    'Antarctica/Troll',
  ];
  const time = fc
    .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
    .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  const window = fc
    .record({
      start: time,
      end: time,
      days: fc.option(fc.subarray([...WEEKDAY_NAMES], { minLength: 1 }), { nil: undefined }),
      timeZone: fc.constantFrom(...zones),
    })
    .filter((w) => w.start !== w.end);
  const instant = fc.integer({ min: at('2010-01-01T00:00:00Z'), max: at('2035-12-31T00:00:00Z') });

  it('is inside at the next opening, which is the instant itself when inside and at most 8 days on', () => {
    fc.assert(
      fc.property(window, instant, (w, t) => {
        const open = nextOpening(w, t).getTime();
        expect(isInsideWindow(w, open)).toBe(true);
        expect(open).toBeGreaterThanOrEqual(t);
        expect(open - t).toBeLessThanOrEqual(8 * DAY);
        if (isInsideWindow(w, t)) expect(open).toBe(t);
        else expect(isInsideWindow(w, open - 1)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees with the local wall clock away from DST changes', () => {
    fc.assert(
      fc.property(window, instant, (w, t) => {
        const local = DateTime.fromMillis(t, { zone: w.timeZone });
        fc.pre(
          local.offset === local.minus({ days: 2 }).offset && local.offset === local.plus({ days: 2 }).offset,
        );
        const minutes = local.hour * 60 + local.minute;
        const [start, end] = [w.start, w.end].map(
          (hhmm) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)),
        );
        const allowed = (d: DateTime) => !w.days || w.days.includes(WEEKDAY_NAMES[d.weekday - 1]!);
        const expected =
          start! < end!
            ? allowed(local) && minutes >= start! && minutes < end!
            : (allowed(local) && minutes >= start!) || (allowed(local.minus({ days: 1 })) && minutes < end!);
        expect(isInsideWindow(w, t)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });
});
