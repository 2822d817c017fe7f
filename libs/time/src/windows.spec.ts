import { ManualClock } from './clock';
import { canonicalTimeZone, isValidTimeZone, timeZoneSchema } from './time-zone';
import { nextWindow, windowAt, windowsAt } from './windows';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('windowAt', () => {
  it('gives the hour, day and week (Monday start) of an ordinary instant in the zone', () => {
    // Wednesday 2026-01-14 15:42 in Paris (UTC+1).
    const at = Date.parse('2026-01-14T14:42:10.500Z');
    const [hour, day, week] = windowsAt(['hour', 'day', 'week'], 'Europe/Paris', at);
    expect(hour).toMatchObject({ id: 'hour:2026-01-14T15+01:00' });
    expect([iso(hour!.startMs), iso(hour!.endMs)]).toEqual([
      '2026-01-14T14:00:00.000Z',
      '2026-01-14T15:00:00.000Z',
    ]);
    expect(day!.id).toBe('day:2026-01-14');
    expect([iso(day!.startMs), iso(day!.endMs)]).toEqual([
      '2026-01-13T23:00:00.000Z',
      '2026-01-14T23:00:00.000Z',
    ]);
    expect(week!.id).toBe('week:2026-W03');
    expect([iso(week!.startMs), iso(week!.endMs)]).toEqual([
      '2026-01-11T23:00:00.000Z',
      '2026-01-18T23:00:00.000Z',
    ]);
  });

  it('starts the week on Monday 00:00 local: Sunday 23:59 and Monday 00:00 are in different weeks', () => {
    const sunday = windowAt('week', 'America/New_York', Date.parse('2026-01-19T04:59:59.999Z'));
    const monday = windowAt('week', 'America/New_York', Date.parse('2026-01-19T05:00:00.000Z'));
    expect(sunday.id).toBe('week:2026-W03');
    expect(monday.id).toBe('week:2026-W04');
    expect(sunday.endMs).toBe(monday.startMs);
  });

  it('uses the ISO week-numbering year across New Year', () => {
    // Thursday 2027-01-01 belongs to ISO week 2026-W53, which started Monday 2026-12-28.
    const week = windowAt('week', 'UTC', Date.parse('2027-01-01T12:00:00Z'));
    expect(week.id).toBe('week:2026-W53');
    expect(iso(week.startMs)).toBe('2026-12-28T00:00:00.000Z');
  });

  describe('Europe/Paris spring forward (2026-03-29, 02:00 → 03:00)', () => {
    const zone = 'Europe/Paris';
    it('has a 23-hour day', () => {
      const day = windowAt('day', zone, Date.parse('2026-03-29T12:00:00Z'));
      expect(day.id).toBe('day:2026-03-29');
      expect(day.endMs - day.startMs).toBe(23 * HOUR);
      expect(iso(day.endMs)).toBe('2026-03-29T22:00:00.000Z');
    });
    it('skips the 02:00 hour: 01:59:59 +01:00 is followed by the 03:00 +02:00 window', () => {
      const before = windowAt('hour', zone, Date.parse('2026-03-29T00:59:59Z'));
      expect(before.id).toBe('hour:2026-03-29T01+01:00');
      const after = nextWindow(before);
      expect(after.id).toBe('hour:2026-03-29T03+02:00');
      expect(after.startMs).toBe(before.endMs);
    });
    it('gives the week with the change 167 hours', () => {
      const week = windowAt('week', zone, Date.parse('2026-03-25T12:00:00Z'));
      expect(week.endMs - week.startMs).toBe(167 * HOUR);
    });
  });

  describe('Europe/Paris fall back (2026-10-25, 03:00 → 02:00)', () => {
    it('has a 25-hour day and two distinct 02:00 hours', () => {
      const day = windowAt('day', 'Europe/Paris', Date.parse('2026-10-25T12:00:00Z'));
      expect(day.endMs - day.startMs).toBe(25 * HOUR);
      const first = windowAt('hour', 'Europe/Paris', Date.parse('2026-10-25T00:30:00Z'));
      const second = windowAt('hour', 'Europe/Paris', Date.parse('2026-10-25T01:30:00Z'));
      expect(first.id).toBe('hour:2026-10-25T02+02:00');
      expect(second.id).toBe('hour:2026-10-25T02+01:00');
      expect(second.startMs).toBe(first.endMs);
    });
  });

  describe('America/New_York', () => {
    const zone = 'America/New_York';
    it('spring forward (2026-03-08): a 23-hour day, 02:00 never exists', () => {
      const day = windowAt('day', zone, Date.parse('2026-03-08T15:00:00Z'));
      expect(day.endMs - day.startMs).toBe(23 * HOUR);
      const oneAm = windowAt('hour', zone, Date.parse('2026-03-08T06:59:00Z'));
      expect(oneAm.id).toBe('hour:2026-03-08T01-05:00');
      expect(nextWindow(oneAm).id).toBe('hour:2026-03-08T03-04:00');
    });
    it('fall back (2026-11-01): a 25-hour day and the repeated 01:00 hour, one window each', () => {
      const day = windowAt('day', zone, Date.parse('2026-11-01T15:00:00Z'));
      expect(day.id).toBe('day:2026-11-01');
      expect(day.endMs - day.startMs).toBe(25 * HOUR);
      // 01:30 EDT, then 01:30 EST an hour later.
      const edt = windowAt('hour', zone, Date.parse('2026-11-01T05:30:00Z'));
      const est = windowAt('hour', zone, Date.parse('2026-11-01T06:30:00Z'));
      expect([edt.id, est.id]).toEqual(['hour:2026-11-01T01-04:00', 'hour:2026-11-01T01-05:00']);
      expect([iso(edt.startMs), iso(est.startMs), iso(est.endMs)]).toEqual([
        '2026-11-01T05:00:00.000Z',
        '2026-11-01T06:00:00.000Z',
        '2026-11-01T07:00:00.000Z',
      ]);
    });
  });

  it('handles leap days: 2028-02-29 is its own day and the week spans it', () => {
    const leap = windowAt('day', 'Asia/Tokyo', Date.parse('2028-02-29T03:00:00Z'));
    expect(leap.id).toBe('day:2028-02-29');
    expect(nextWindow(leap).id).toBe('day:2028-03-01');
    expect(windowAt('day', 'Asia/Tokyo', Date.parse('2028-02-28T14:59:59Z')).id).toBe('day:2028-02-28');
    const week = windowAt('week', 'Asia/Tokyo', leap.startMs);
    expect(week.id).toBe('week:2028-W09');
    expect(week.endMs - week.startMs).toBe(168 * HOUR);
  });

  it('tiles time: window after window, no gap and no overlap through both DST changes of 2026', () => {
    const problems: string[] = [];
    for (const zone of ['Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney']) {
      for (const [from, hours] of [
        ['2026-03-01T00:00:00Z', 45 * 24],
        ['2026-10-01T00:00:00Z', 45 * 24],
      ] as const) {
        let hour = windowAt('hour', zone, new ManualClock(from).nowMs());
        for (let i = 0; i < hours; i++) {
          const next = nextWindow(hour);
          if (next.startMs !== hour.endMs || next.id === hour.id) problems.push(`${zone} ${hour.id}`);
          hour = next;
        }
      }
      let day = windowAt('day', zone, Date.parse('2026-01-01T12:00:00Z'));
      const lengths = new Set<number>();
      for (let i = 0; i < 365; i++) {
        const next = nextWindow(day);
        if (next.startMs !== day.endMs) problems.push(`${zone} ${day.id}`);
        lengths.add((next.endMs - next.startMs) / HOUR);
        day = next;
      }
      if (zone !== 'Asia/Kolkata') expect([...lengths].sort()).toEqual([23, 24, 25]);
    }
    expect(problems).toEqual([]);
  });

  it('refuses an unknown zone', () => {
    expect(() => windowAt('day', 'Mars/Olympus_Mons', 0)).toThrow(/IANA/);
  });
});

describe('time zone validation', () => {
  it('accepts IANA names and refuses offsets, garbage and unknown names', () => {
    expect(
      ['Europe/Paris', 'UTC', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5'].map(isValidTimeZone),
    ).toEqual([true, true, true, true]);
    expect(['+02:00', '', 'Paris', 'Europe/Nowhere', 'Europe/Paris; DROP'].map(isValidTimeZone)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });
  it('canonicalises through the schema', () => {
    expect(canonicalTimeZone('europe/paris')).toBe('Europe/Paris');
    expect(timeZoneSchema.parse('america/new_york')).toBe('America/New_York');
    expect(timeZoneSchema.safeParse('+01:00').success).toBe(false);
  });
});

describe('ManualClock', () => {
  it('moves only when told', () => {
    const clock = new ManualClock('2026-03-29T00:59:00Z');
    expect(clock.nowMs()).toBe(Date.parse('2026-03-29T00:59:00Z'));
    clock.advance(60_000);
    expect(clock.now().toISOString()).toBe('2026-03-29T01:00:00.000Z');
    clock.set(0);
    expect(clock.nowMs()).toBe(0);
    expect(() => clock.set('not a date')).toThrow(RangeError);
  });
});
