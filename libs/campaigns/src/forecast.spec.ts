import { countByDay, estimateCompletion, planQuota, slotsFrom, summarise, type QuotaPlan } from './forecast';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const slots = (plan: QuotaPlan) => plan.slots.map((s) => [iso(s.atMs), s.count]);

describe('planQuota', () => {
  it('daily 1,000 with 200 used: 800 today, then 1,000 at each following local midnight', () => {
    const plan = planQuota({
      count: 4000,
      fromMs: at('2026-01-14T09:30:00Z'),
      zone: 'Europe/Paris',
      limits: { day: 1000 },
      remaining: { day: 800 },
      policy: 'defer',
    });
    expect(slots(plan)).toEqual([
      ['2026-01-14T09:30:00.000Z', 800],
      ['2026-01-14T23:00:00.000Z', 1000],
      ['2026-01-15T23:00:00.000Z', 1000],
      ['2026-01-16T23:00:00.000Z', 1000],
      ['2026-01-17T23:00:00.000Z', 200],
    ]);
    expect(plan).toMatchObject({ placed: 4000, unplaced: 0, lastAtMs: at('2026-01-17T23:00:00Z') });
    expect(countByDay(plan, 'Europe/Paris')).toEqual([
      { date: '2026-01-14', count: 800 },
      { date: '2026-01-15', count: 1000 },
      { date: '2026-01-16', count: 1000 },
      { date: '2026-01-17', count: 1000 },
      { date: '2026-01-18', count: 200 },
    ]);
  });

  it('everything at once without limits', () => {
    const plan = planQuota({ count: 5, fromMs: 1000, zone: 'UTC', limits: {}, policy: 'defer' });
    expect(plan).toEqual({ slots: [{ atMs: 1000, count: 5 }], placed: 5, unplaced: 0, lastAtMs: 1000 });
  });

  it('skip: only what fits in the current windows', () => {
    const plan = planQuota({
      count: 500,
      fromMs: at('2026-01-14T09:30:00Z'),
      zone: 'UTC',
      limits: { hour: 100, day: 1000 },
      remaining: { hour: 30, day: 900 },
      policy: 'skip',
    });
    expect(plan).toMatchObject({ placed: 30, unplaced: 470 });
  });

  it('several windows: the tightest one decides, and a day that runs out waits for both resets', () => {
    const plan = planQuota({
      count: 250,
      fromMs: at('2026-01-14T22:10:00Z'),
      zone: 'UTC',
      limits: { hour: 100, day: 150 },
      remaining: { hour: 100, day: 120 },
      policy: 'defer',
    });
    // 100 this hour; the day has 20 left at 23:00; then the next day starts at midnight.
    expect(slots(plan)).toEqual([
      ['2026-01-14T22:10:00.000Z', 100],
      ['2026-01-14T23:00:00.000Z', 20],
      ['2026-01-15T00:00:00.000Z', 100],
      ['2026-01-15T01:00:00.000Z', 30],
    ]);
  });

  it('counts days in the account’s zone across DST (a 23-hour day in Paris)', () => {
    const plan = planQuota({
      count: 30,
      fromMs: at('2026-03-28T12:00:00Z'),
      zone: 'Europe/Paris',
      limits: { day: 10 },
      remaining: { day: 10 },
      policy: 'defer',
    });
    // 29 March (spring forward) starts at 23:00Z on the 28th, 30 March at 22:00Z on the 29th.
    expect(slots(plan)).toEqual([
      ['2026-03-28T12:00:00.000Z', 10],
      ['2026-03-28T23:00:00.000Z', 10],
      ['2026-03-29T22:00:00.000Z', 10],
    ]);
  });

  it('a weekly limit spreads over weeks starting on Monday', () => {
    const plan = planQuota({
      count: 25,
      fromMs: at('2026-01-14T12:00:00Z'), // a Wednesday
      zone: 'UTC',
      limits: { day: 10, week: 15 },
      remaining: { day: 10, week: 12 },
      policy: 'defer',
    });
    expect(slots(plan)).toEqual([
      ['2026-01-14T12:00:00.000Z', 10],
      ['2026-01-15T00:00:00.000Z', 2],
      ['2026-01-19T00:00:00.000Z', 10],
      ['2026-01-20T00:00:00.000Z', 3],
    ]);
  });

  it('a 0 limit places nothing, and a huge count stops at the horizon', () => {
    expect(
      planQuota({ count: 3, fromMs: 0, zone: 'UTC', limits: { day: 0 }, policy: 'defer' }),
    ).toMatchObject({ placed: 0, unplaced: 3, lastAtMs: null });
    const far = planQuota({
      count: 1e6,
      fromMs: 0,
      zone: 'UTC',
      limits: { hour: 1 },
      policy: 'defer',
      maxSteps: 10,
    });
    expect(far).toMatchObject({ placed: 11, unplaced: 1e6 - 11 });
  });

  it('waits for the send window: no slot while it is closed', () => {
    const plan = planQuota({
      count: 250,
      fromMs: at('2026-01-14T18:00:00Z'), // 19:00 in Paris, after the window closed
      zone: 'Europe/Paris',
      limits: { day: 100 },
      remaining: { day: 40 },
      policy: 'defer',
      sendWindow: { start: '09:00', end: '17:00', timeZone: 'Europe/Paris' },
    });
    // 40 left today but the window is shut: they go when it opens tomorrow, with tomorrow's quota.
    expect(slots(plan)).toEqual([
      ['2026-01-15T08:00:00.000Z', 100],
      ['2026-01-16T08:00:00.000Z', 100],
      ['2026-01-17T08:00:00.000Z', 50],
    ]);
  });
});

describe('slotsFrom', () => {
  const plan: QuotaPlan = {
    slots: [
      { atMs: 1, count: 2 },
      { atMs: 2, count: 3 },
    ],
    placed: 5,
    unplaced: 0,
    lastAtMs: 2,
  };
  it('gives the slot of each delivery of a page, null past the plan', () => {
    expect(slotsFrom(plan, 0, 3)).toEqual([1, 1, 2]);
    expect(slotsFrom(plan, 3, 4)).toEqual([2, 2, null, null]);
  });
});

describe('estimateCompletion', () => {
  const now = at('2026-01-14T10:00:00Z');
  const plan = (lastAt: string | null, unplaced = 0): QuotaPlan => ({
    slots: [],
    placed: 0,
    unplaced,
    lastAtMs: lastAt === null ? null : at(lastAt),
  });
  it('takes the later of the quota and the rate', () => {
    expect(
      estimateCompletion({
        remaining: 600,
        nowMs: now,
        ratePerSecond: 10,
        plan: plan('2026-01-14T10:00:00Z'),
      }),
    ).toEqual({
      etaMs: at('2026-01-14T10:01:00Z'),
      reason: 'rate',
    });
    expect(
      estimateCompletion({
        remaining: 600,
        nowMs: now,
        ratePerSecond: 10,
        plan: plan('2026-01-15T00:00:00Z'),
      }),
    ).toEqual({
      etaMs: at('2026-01-15T00:00:00Z'),
      reason: 'quota',
    });
  });
  it('has no estimate when done, when quota never allows it, or without sends or quota to go by', () => {
    expect(
      estimateCompletion({ remaining: 0, nowMs: now, ratePerSecond: 5, plan: plan(null) }).etaMs,
    ).toBeNull();
    expect(
      estimateCompletion({ remaining: 5, nowMs: now, ratePerSecond: 5, plan: plan(null, 5) }).etaMs,
    ).toBeNull();
    expect(
      estimateCompletion({ remaining: 5, nowMs: now, ratePerSecond: 0, plan: plan('2026-01-14T10:00:00Z') }),
    ).toEqual({
      etaMs: null,
      reason: null,
    });
  });
});

describe('summarise', () => {
  it('reads like the issue asks', () => {
    expect(
      summarise({
        targeted: 4000,
        today: '2026-01-14',
        byDay: [
          { date: '2026-01-14', count: 1000 },
          { date: '2026-01-15', count: 1000 },
          { date: '2026-01-16', count: 1000 },
          { date: '2026-01-17', count: 1000 },
        ],
      }),
    ).toBe('4,000 targeted, 1,000 today, the rest over 3 days');
    expect(summarise({ targeted: 6, today: '2026-01-14', byDay: [{ date: '2026-01-14', count: 6 }] })).toBe(
      '6 targeted, all today',
    );
    expect(
      summarise({
        targeted: 20,
        today: '2026-01-14',
        byDay: [
          { date: '2026-01-15', count: 10 },
          { date: '2026-01-19', count: 10 },
        ],
        leftOut: { 'over the run cap': 5, suppressed: 0 },
      }),
    ).toBe(
      '20 targeted, 10 on 2026-01-15, the rest over 1 day (the last on 2026-01-19); skipped: 5 over the run cap',
    );
    expect(summarise({ targeted: 0, today: '2026-01-14', byDay: [] })).toBe('0 targeted, nothing to send');
  });
});
