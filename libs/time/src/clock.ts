/**
 * What time it is. Everything that decides by time (quota windows, breaker periods, retry
 * delays) reads an injected Clock instead of `Date.now()`, so tests move time by hand.
 */
export interface Clock {
  /** The current instant. */
  now(): Date;
  /** The current instant in epoch milliseconds. */
  nowMs(): number;
}

/** Injection token for the process Clock (SystemClock unless a test provides a ManualClock). */
export const CLOCK = Symbol('HERALD_CLOCK');

/** The wall clock. */
export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }

  nowMs(): number {
    return Date.now();
  }
}

/** A clock that only moves when told to: tests cross hour, day, week and DST boundaries with it. */
export class ManualClock implements Clock {
  #ms: number;

  constructor(start: Date | number | string = 0) {
    this.#ms = toMs(start);
  }

  now(): Date {
    return new Date(this.#ms);
  }

  nowMs(): number {
    return this.#ms;
  }

  /** Moves the clock forward (or backward, with a negative value) by `ms`. */
  advance(ms: number): this {
    if (!Number.isFinite(ms)) throw new RangeError(`cannot advance a clock by ${ms} ms`);
    this.#ms += ms;
    return this;
  }

  /** Jumps to an instant (a Date, epoch milliseconds or an ISO 8601 string with an offset). */
  set(instant: Date | number | string): this {
    this.#ms = toMs(instant);
    return this;
  }
}

function toMs(instant: Date | number | string): number {
  const ms = typeof instant === 'number' ? instant : new Date(instant).getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`not an instant: ${String(instant)}`);
  return ms;
}
