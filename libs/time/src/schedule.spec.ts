import { CronExpressionParser } from 'cron-parser';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import {
  cronPattern,
  localDate,
  nextSlot,
  previousSlot,
  WEEKDAY_NAMES,
  type DailySchedule,
} from './schedule';

const at = Date.parse;
const iso = (d: Date) => d.toISOString();

/** The slots from `from` on, each computed from the one before. */
function slots(s: DailySchedule, from: string, count: number): string[] {
  const out: string[] = [];
  let t = at(from);
  for (let i = 0; i < count; i++) {
    const slot = nextSlot(s, t);
    out.push(iso(slot));
    t = slot.getTime();
  }
  return out;
}

/** What BullMQ's job scheduler computes for the job after one at `afterMs` (or late, at `afterMs`). */
function bullmqNext(s: DailySchedule, afterMs: number): string {
  const interval = CronExpressionParser.parse(cronPattern(s), {
    currentDate: new Date(afterMs),
    tz: s.timeZone,
  });
  return iso(interval.next().toDate());
}

describe('cronPattern', () => {
  it('writes minute hour * * days, with * for every day', () => {
    expect(cronPattern({ at: '09:05', timeZone: 'Europe/Paris' })).toBe('5 9 * * *');
    expect(cronPattern({ at: '00:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'], timeZone: 'UTC' })).toBe(
      '0 0 * * 1,2,3,4,5',
    );
    expect(cronPattern({ at: '23:59', days: ['sat', 'sun'], timeZone: 'UTC' })).toBe('59 23 * * 0,6');
    expect(cronPattern({ at: '12:00', days: WEEKDAY_NAMES, timeZone: 'UTC' })).toBe('0 12 * * *');
  });

  it('refuses a malformed time, an empty or unknown day list and an unknown zone', () => {
    for (const bad of ['9:00', '24:00', '12:60', '12:00:00', '']) {
      expect(() => cronPattern({ at: bad, timeZone: 'UTC' })).toThrow(RangeError);
    }
    expect(() => cronPattern({ at: '09:00', days: [], timeZone: 'UTC' })).toThrow(/at least one/);
    expect(() => cronPattern({ at: '09:00', days: ['funday' as 'mon'], timeZone: 'UTC' })).toThrow(/weekday/);
    expect(() => nextSlot({ at: '09:00', timeZone: 'Mars/Olympus_Mons' }, 0)).toThrow(/IANA/);
  });
});

describe('nextSlot and previousSlot', () => {
  const paris: DailySchedule = { at: '09:00', timeZone: 'Europe/Paris' };

  it('fire daily at the local time: next is strictly after, previous is at or before', () => {
    // 09:00 in Paris in January is 08:00Z.
    const slot = at('2026-01-14T08:00:00Z');
    expect(iso(nextSlot(paris, slot - 1))).toBe('2026-01-14T08:00:00.000Z');
    expect(iso(nextSlot(paris, slot))).toBe('2026-01-15T08:00:00.000Z');
    expect(iso(nextSlot(paris, new Date(slot)))).toBe('2026-01-15T08:00:00.000Z');
    expect(iso(previousSlot(paris, slot))).toBe('2026-01-14T08:00:00.000Z');
    expect(iso(previousSlot(paris, slot - 1))).toBe('2026-01-13T08:00:00.000Z');
    // Summer time: 09:00 is 07:00Z.
    expect(iso(nextSlot(paris, at('2026-07-01T00:00:00Z')))).toBe('2026-07-01T07:00:00.000Z');
  });

  it('keeps to the days of a weekday schedule: Friday, then Monday', () => {
    const weekdays: DailySchedule = {
      at: '09:00',
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      timeZone: 'America/New_York',
    };
    // Friday 2026-01-16 09:00 EST is 14:00Z.
    expect(slots(weekdays, '2026-01-15T14:00:00Z', 3)).toEqual([
      '2026-01-16T14:00:00.000Z',
      '2026-01-19T14:00:00.000Z',
      '2026-01-20T14:00:00.000Z',
    ]);
    expect(iso(previousSlot(weekdays, at('2026-01-18T23:00:00Z')))).toBe('2026-01-16T14:00:00.000Z');
    expect(localDate(nextSlot(weekdays, at('2026-01-16T15:00:00Z')), weekdays.timeZone)).toBe('2026-01-19');
  });

  describe('Europe/Paris spring forward (2026-03-29, 02:00 → 03:00)', () => {
    const s: DailySchedule = { at: '02:30', timeZone: 'Europe/Paris' };
    it('fires the missing 02:30 once, at 03:30 local (02:30 at the winter offset), as BullMQ does', () => {
      expect(slots(s, '2026-03-27T12:00:00Z', 3)).toEqual([
        '2026-03-28T01:30:00.000Z',
        '2026-03-29T01:30:00.000Z',
        '2026-03-30T00:30:00.000Z',
      ]);
      const shifted = nextSlot(s, at('2026-03-28T12:00:00Z'));
      expect(DateTime.fromJSDate(shifted, { zone: s.timeZone }).toISO()).toBe(
        '2026-03-29T03:30:00.000+02:00',
      );
      expect(localDate(shifted, s.timeZone)).toBe('2026-03-29');
      expect(bullmqNext(s, at('2026-03-28T01:30:00Z'))).toBe('2026-03-29T01:30:00.000Z');
    });
    it('finds that slot from after it too (cron-parser prev() does not)', () => {
      expect(iso(previousSlot(s, at('2026-03-29T05:00:00Z')))).toBe('2026-03-29T01:30:00.000Z');
      expect(iso(previousSlot(s, at('2026-03-29T01:29:59Z')))).toBe('2026-03-28T01:30:00.000Z');
      const cronPrev = CronExpressionParser.parse('30 2 * * *', {
        currentDate: new Date(at('2026-03-29T05:00:00Z')),
        tz: s.timeZone,
      }).prev();
      expect(iso(cronPrev.toDate())).toBe('2026-03-28T01:30:00.000Z');
    });
    it('moves a slot after the change by the hour only in UTC', () => {
      expect(slots({ at: '09:00', timeZone: 'Europe/Paris' }, '2026-03-28T00:00:00Z', 2)).toEqual([
        '2026-03-28T08:00:00.000Z',
        '2026-03-29T07:00:00.000Z',
      ]);
    });
  });

  describe('Europe/Paris fall back (2026-10-25, 03:00 → 02:00)', () => {
    const s: DailySchedule = { at: '02:30', timeZone: 'Europe/Paris' };
    it('fires the repeated 02:30 once, at its first occurrence (+02:00)', () => {
      expect(slots(s, '2026-10-23T12:00:00Z', 3)).toEqual([
        '2026-10-24T00:30:00.000Z',
        '2026-10-25T00:30:00.000Z',
        '2026-10-26T01:30:00.000Z',
      ]);
      // BullMQ computes the next job from this one and skips the second 02:30 as well.
      expect(bullmqNext(s, at('2026-10-25T00:30:00Z'))).toBe('2026-10-26T01:30:00.000Z');
    });
    it('never gives the second occurrence, which BullMQ would fire if it computed from inside the repeated hour', () => {
      const insideRepeat = at('2026-10-25T01:10:00Z'); // 02:10 +01:00, after the first 02:30.
      expect(bullmqNext(s, insideRepeat)).toBe('2026-10-25T01:30:00.000Z'); // the run key dedupes it
      expect(iso(nextSlot(s, insideRepeat))).toBe('2026-10-26T01:30:00.000Z');
      expect(iso(previousSlot(s, at('2026-10-25T01:45:00Z')))).toBe('2026-10-25T00:30:00.000Z');
      expect(localDate(at('2026-10-25T01:30:00Z'), s.timeZone)).toBe('2026-10-25');
    });
  });

  describe('America/New_York', () => {
    it('spring forward (2026-03-08): 02:30 fires once, at 03:30 EDT', () => {
      const s: DailySchedule = { at: '02:30', timeZone: 'America/New_York' };
      expect(slots(s, '2026-03-06T12:00:00Z', 3)).toEqual([
        '2026-03-07T07:30:00.000Z',
        '2026-03-08T07:30:00.000Z',
        '2026-03-09T06:30:00.000Z',
      ]);
      expect(iso(previousSlot(s, at('2026-03-08T12:00:00Z')))).toBe('2026-03-08T07:30:00.000Z');
    });
    it('fall back (2026-11-01): 01:30 fires once, at 01:30 EDT', () => {
      const s: DailySchedule = { at: '01:30', timeZone: 'America/New_York' };
      expect(slots(s, '2026-10-30T12:00:00Z', 3)).toEqual([
        '2026-10-31T05:30:00.000Z',
        '2026-11-01T05:30:00.000Z',
        '2026-11-02T06:30:00.000Z',
      ]);
      expect(iso(nextSlot(s, at('2026-11-01T06:00:00Z')))).toBe('2026-11-02T06:30:00.000Z');
      expect(iso(previousSlot(s, at('2026-11-01T06:30:00Z')))).toBe('2026-11-01T05:30:00.000Z');
    });
  });

  it('handles the +05:45 of Asia/Kathmandu, where a morning slot falls on the previous UTC day', () => {
    const s: DailySchedule = { at: '00:10', timeZone: 'Asia/Kathmandu' };
    const slot = nextSlot(s, at('2026-06-01T00:00:00Z'));
    expect(iso(slot)).toBe('2026-06-01T18:25:00.000Z');
    expect(localDate(slot, s.timeZone)).toBe('2026-06-02');
    expect(iso(nextSlot({ at: '09:00', timeZone: 'Asia/Kathmandu' }, at('2026-06-01T00:00:00Z')))).toBe(
      '2026-06-01T03:15:00.000Z',
    );
  });

  it('handles Pacific/Chatham (+12:45, +13:45 from 2026-09-27 02:45)', () => {
    expect(iso(nextSlot({ at: '09:00', timeZone: 'Pacific/Chatham' }, at('2026-01-10T00:00:00Z')))).toBe(
      '2026-01-10T19:15:00.000Z',
    );
    // 03:00 does not exist on 2026-09-27: it fires at 04:00 +13:45 (03:00 at +12:45).
    const s: DailySchedule = { at: '03:00', timeZone: 'Pacific/Chatham' };
    expect(slots(s, '2026-09-25T00:00:00Z', 3)).toEqual([
      '2026-09-25T14:15:00.000Z',
      '2026-09-26T14:15:00.000Z',
      '2026-09-27T13:15:00.000Z',
    ]);
    expect(slots(s, '2026-09-25T00:00:00Z', 3).map((t) => localDate(at(t), s.timeZone))).toEqual([
      '2026-09-26',
      '2026-09-27',
      '2026-09-28',
    ]);
  });

  it('fires on a leap day and keys it 2028-02-29', () => {
    const daily: DailySchedule = { at: '08:00', timeZone: 'Asia/Tokyo' };
    const fired = slots(daily, '2028-02-27T12:00:00Z', 3);
    expect(fired).toEqual([
      '2028-02-27T23:00:00.000Z',
      '2028-02-28T23:00:00.000Z',
      '2028-02-29T23:00:00.000Z',
    ]);
    expect(fired.map((t) => localDate(at(t), daily.timeZone))).toEqual([
      '2028-02-28',
      '2028-02-29',
      '2028-03-01',
    ]);
    // 2028-02-29 is a Tuesday.
    const tuesdays: DailySchedule = { at: '12:00', days: ['tue'], timeZone: 'UTC' };
    expect(iso(nextSlot(tuesdays, at('2028-02-23T00:00:00Z')))).toBe('2028-02-29T12:00:00.000Z');
    expect(iso(previousSlot(tuesdays, at('2028-03-06T00:00:00Z')))).toBe('2028-02-29T12:00:00.000Z');
    expect(localDate(new Date('2028-02-29T23:59:59Z'), 'UTC')).toBe('2028-02-29');
  });

  it('agrees with BullMQ job after job through the DST changes of 2026', () => {
    const mismatches: string[] = [];
    for (const timeZone of ['Europe/Paris', 'America/New_York', 'Pacific/Chatham', 'Australia/Lord_Howe']) {
      for (const time of ['01:30', '02:30', '02:45', '23:45']) {
        const s: DailySchedule = { at: time, timeZone };
        for (const [from, days] of [
          ['2026-03-01T00:00:00Z', 40],
          ['2026-09-20T00:00:00Z', 50],
        ] as const) {
          let t = nextSlot(s, at(from)).getTime();
          for (let i = 0; i < days; i++) {
            const ours = iso(nextSlot(s, t));
            const theirs = bullmqNext(s, t);
            if (ours !== theirs) mismatches.push(`${timeZone} ${time} after ${iso(new Date(t))}`);
            t = at(ours);
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('finds the Lord Howe slot cron-parser gives up on, where BullMQ stops the scheduler', () => {
    // Australia/Lord_Howe falls back half an hour, 02:00 +11:00 → 01:30 +10:30, on 2026-04-05.
    const s: DailySchedule = { at: '03:00', timeZone: 'Australia/Lord_Howe' };
    expect(() => bullmqNext(s, at('2026-04-03T16:00:00Z'))).toThrow(/loop limit/);
    expect(slots(s, '2026-04-03T12:00:00Z', 3)).toEqual([
      '2026-04-03T16:00:00.000Z',
      '2026-04-04T16:30:00.000Z',
      '2026-04-05T16:30:00.000Z',
    ]);
    // 01:45 exists twice that day: once, at +11:00.
    expect(slots({ at: '01:45', timeZone: 'Australia/Lord_Howe' }, '2026-04-03T12:00:00Z', 3)).toEqual([
      '2026-04-03T14:45:00.000Z',
      '2026-04-04T14:45:00.000Z',
      '2026-04-05T15:15:00.000Z',
    ]);
  });
});

describe('schedule properties', () => {
  const zones = [
    'UTC',
    'Europe/Paris',
    'America/New_York',
    'America/Santiago',
    'America/Havana',
    'America/St_Johns',
    'Asia/Kathmandu',
    'Asia/Tehran',
    'Africa/Cairo',
    'Pacific/Chatham',
    'Pacific/Kiritimati',
    'Australia/Lord_Howe',
    'Antarctica/Troll',
  ];
  const schedule = fc.record({
    at: fc
      .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
      .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`),
    days: fc.option(fc.subarray([...WEEKDAY_NAMES], { minLength: 1 }), { nil: undefined }),
    timeZone: fc.constantFrom(...zones),
  });
  const instant = fc.integer({ min: at('2020-01-01T00:00:00Z'), max: at('2035-12-31T00:00:00Z') });

  it('brackets every instant with adjacent slots on distinct local dates', () => {
    fc.assert(
      fc.property(schedule, instant, (s, t) => {
        const previous = previousSlot(s, t).getTime();
        const next = nextSlot(s, t).getTime();
        expect(previous).toBeLessThanOrEqual(t);
        expect(next).toBeGreaterThan(t);
        expect(nextSlot(s, previous).getTime()).toBe(next);
        expect(previousSlot(s, next).getTime()).toBe(next);
        expect(previousSlot(s, next - 1).getTime()).toBe(previous);
        expect(localDate(previous, s.timeZone)).not.toBe(localDate(next, s.timeZone));
        expect(nextSlot(s, next).getTime()).toBeGreaterThan(next);
        expect(localDate(nextSlot(s, next), s.timeZone)).not.toBe(localDate(next, s.timeZone));
      }),
      { numRuns: 300 },
    );
  });

  it('fires at the local time asked for, or just after it when a DST change skips it', () => {
    fc.assert(
      fc.property(schedule, instant, (s, t) => {
        const slot = DateTime.fromJSDate(nextSlot(s, t), { zone: s.timeZone });
        const asked = s.at.split(':').map(Number);
        const minutes = slot.hour * 60 + slot.minute - (asked[0]! * 60 + asked[1]!);
        const skipped = slot.offset - slot.minus({ hours: 3 }).offset;
        expect(minutes === 0 || (skipped > 0 && minutes > 0 && minutes <= skipped)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
