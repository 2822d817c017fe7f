import { nextOpening, windowAt, type SendWindowSpec, type TimeWindow, type WindowUnit } from '@herald/time';

/** What a quota plan needs to know: how many deliveries, from when, under which limits. */
export interface QuotaPlanInput {
  /** Deliveries to place, in send order. */
  count: number;
  /** Epoch ms from which they may go (now). */
  fromMs: number;
  /** The sender account's zone: its hourly, daily and weekly windows are counted in it. */
  zone: string;
  /** The limit per window; an absent unit is unlimited, 0 means nothing ever goes. */
  limits: Partial<Record<WindowUnit, number>>;
  /** Units still free in the windows that contain `fromMs` (default: the whole limit). */
  remaining?: Partial<Record<WindowUnit, number>>;
  /** `skip`: only what fits in the windows current when sending starts; `defer`: the rest waits for resets. */
  policy: 'defer' | 'skip';
  /** Deliveries only go out while the campaign's send window is open. */
  sendWindow?: SendWindowSpec;
  /** Window resets walked at most (a guard for tiny limits and huge counts; default 100,000). */
  maxSteps?: number;
}

/** `count` deliveries that may go out from `atMs` on (quota-wise, the earliest they can). */
export interface QuotaSlot {
  atMs: number;
  count: number;
}

export interface QuotaPlan {
  slots: QuotaSlot[];
  /** Deliveries the plan found room for (the sum of the slots). */
  placed: number;
  /** Deliveries with no room: skipped under `skip`, beyond the horizon (or a 0 limit) under `defer`. */
  unplaced: number;
  /** When the last placed delivery may go out; null when nothing was placed. */
  lastAtMs: number | null;
}

const UNITS: readonly WindowUnit[] = ['hour', 'day', 'week'];

/**
 * Places deliveries into the account's quota windows, the way the pipeline admits them: as many
 * as every current window (hour, day, week in the account's zone) still allows, then — once all
 * exhausted windows have reset — the next windows' full limits, and so on. Calendar windows come
 * from libs/time (`windowAt`), so days of 23 or 25 hours and repeated hours are counted as the
 * quota counts them. With a send window, time jumps to its next opening before each placement.
 * Pure: no clock, no I/O.
 */
export function planQuota(input: QuotaPlanInput): QuotaPlan {
  const { zone, policy, sendWindow } = input;
  const maxSteps = input.maxSteps ?? 100_000;
  const limited = UNITS.filter((u) => input.limits[u] !== undefined);
  const slots: QuotaSlot[] = [];
  let left = Math.max(0, Math.floor(input.count));
  let t = input.fromMs;
  const state = new Map<WindowUnit, { window: TimeWindow; remaining: number }>();
  for (const unit of limited) {
    const limit = input.limits[unit]!;
    state.set(unit, {
      window: windowAt(unit, zone, t),
      remaining: clamp(input.remaining?.[unit] ?? limit, limit),
    });
  }
  /** Moves to `at`: a window that changed starts with its whole limit. */
  const moveTo = (at: number) => {
    t = at;
    for (const [unit, s] of state) {
      const window = windowAt(unit, zone, t);
      if (window.id !== s.window.id || window.startMs !== s.window.startMs)
        state.set(unit, { window, remaining: input.limits[unit]! });
    }
  };
  for (let step = 0; left > 0 && step <= maxSteps; step++) {
    if (sendWindow) {
      const opening = nextOpening(sendWindow, t).getTime();
      if (opening !== t) moveTo(opening);
    }
    const room = Math.min(...[...state.values()].map((s) => s.remaining));
    if (room > 0) {
      const n = Math.min(room, left);
      slots.push({ atMs: t, count: n });
      left -= n;
      for (const s of state.values()) s.remaining -= n;
    }
    if (left === 0 || policy === 'skip') break;
    if (limited.some((u) => input.limits[u]! <= 0)) break; // a 0 limit never resets to anything
    // Nothing more fits until every exhausted window has reset (the quota's retryAt).
    const exhausted = [...state.values()].filter((s) => s.remaining <= 0);
    moveTo(Math.max(...exhausted.map((s) => s.window.endMs)));
  }
  const placed = slots.reduce((sum, s) => sum + s.count, 0);
  return { slots, placed, unplaced: left, lastAtMs: slots.at(-1)?.atMs ?? null };
}

/**
 * The slot of each delivery from `index` on, for a page of them: walks the slots once per page
 * instead of once per delivery.
 */
export function slotsFrom(plan: QuotaPlan, index: number, n: number): (number | null)[] {
  const out: (number | null)[] = [];
  let end = 0;
  for (const slot of plan.slots) {
    end += slot.count;
    while (out.length < n && index + out.length < end) out.push(slot.atMs);
    if (out.length === n) return out;
  }
  while (out.length < n) out.push(null);
  return out;
}

/** Deliveries per local date of `zone` (YYYY-MM-DD), in date order. */
export function countByDay(plan: QuotaPlan, zone: string): { date: string; count: number }[] {
  const days: { date: string; count: number }[] = [];
  for (const slot of plan.slots) {
    const date = localDay(zone, slot.atMs);
    const last = days.at(-1);
    if (last?.date === date) last.count += slot.count;
    else days.push({ date, count: slot.count });
  }
  return days;
}

export type EtaReason = 'rate' | 'quota';

/**
 * When a run's last remaining delivery should go out: the later of what the quota allows (the
 * plan's last slot) and what the recent send rate gives (`remaining / rate`). Null when nothing
 * is left, when the quota never has room for it all, or when nothing was sent lately and the
 * quota does not hold anything back (no basis for a guess).
 */
export function estimateCompletion(input: {
  remaining: number;
  nowMs: number;
  ratePerSecond: number;
  plan: QuotaPlan;
}): { etaMs: number | null; reason: EtaReason | null } {
  const { remaining, nowMs, ratePerSecond, plan } = input;
  if (remaining <= 0 || plan.unplaced > 0) return { etaMs: null, reason: null };
  const byQuota = plan.lastAtMs ?? nowMs;
  const byRate = ratePerSecond > 0 ? nowMs + Math.ceil((remaining / ratePerSecond) * 1000) : null;
  if (byRate !== null && byRate >= byQuota) return { etaMs: byRate, reason: 'rate' };
  if (byQuota > nowMs) return { etaMs: byQuota, reason: 'quota' };
  return { etaMs: null, reason: null };
}

const number = new Intl.NumberFormat('en-US');

/**
 * One line for people: "4,000 targeted, 1,000 today, the rest over 3 days", with what is left
 * out ("; 200 over the run cap skipped").
 */
export function summarise(input: {
  targeted: number;
  byDay: readonly { date: string; count: number }[];
  today: string;
  leftOut?: Readonly<Record<string, number>>;
}): string {
  const { targeted, byDay, today } = input;
  const on = (date: string) => (date === today ? 'today' : `on ${date}`);
  let line: string;
  const first = byDay[0];
  if (targeted === 0 || !first) line = `${number.format(targeted)} targeted, nothing to send`;
  else if (byDay.length === 1) line = `${number.format(targeted)} targeted, all ${on(first.date)}`;
  else {
    const rest = byDay.length - 1;
    line = `${number.format(targeted)} targeted, ${number.format(first.count)} ${on(first.date)}, the rest over ${rest} day${rest === 1 ? '' : 's'}`;
    const span = daysBetween(first.date, byDay.at(-1)!.date);
    if (span !== rest) line += ` (the last on ${byDay.at(-1)!.date})`;
  }
  const out = Object.entries(input.leftOut ?? {}).filter(([, n]) => n > 0);
  if (out.length > 0) line += `; skipped: ${out.map(([why, n]) => `${number.format(n)} ${why}`).join(', ')}`;
  return line;
}

/** The local date (YYYY-MM-DD) of `ms` in `zone`: the id of its day window. */
export function localDay(zone: string, ms: number): string {
  return windowAt('day', zone, ms).id.slice('day:'.length);
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

function clamp(value: number, limit: number): number {
  return Math.max(0, Math.min(Math.floor(value), limit));
}
