/**
 * The breaker's state machine as pure functions. The Redis Lua scripts in circuit-breaker.ts
 * implement the same transitions atomically for the fleet; this copy runs the process-local
 * fallback while Redis is unreachable, and documents the rules in one readable place.
 */
export type CircuitStateName = 'closed' | 'half_open' | 'open';

export interface CircuitSettings {
  /** Consecutive transient failures that open a closed circuit (DESIGN §9: 3). */
  readonly failureThreshold: number;
  /** First open period (1 s); each re-open after a failed probe doubles it… */
  readonly baseOpenMs: number;
  /** …up to this cap (60 s). */
  readonly maxOpenMs: number;
  /**
   * How long the half-open probe may take before another caller may probe instead: a probe
   * holder that crashed must not keep the circuit half-open forever.
   */
  readonly probeTimeoutMs: number;
}

export const DEFAULT_CIRCUIT_SETTINGS: CircuitSettings = {
  failureThreshold: 3,
  baseOpenMs: 1000,
  maxOpenMs: 60_000,
  probeTimeoutMs: 30_000,
};

export interface CircuitRecord {
  state: CircuitStateName;
  /** Consecutive failures while closed. */
  failures: number;
  /** While open: when the open period ends (epoch ms). */
  openUntil: number;
  /** Length of the last open period (0 once closed again: the backoff has reset). */
  periodMs: number;
  /** While half-open: when the current probe's lease ends (epoch ms). */
  probeUntil: number;
}

export const CLOSED: CircuitRecord = {
  state: 'closed',
  failures: 0,
  openUntil: 0,
  periodMs: 0,
  probeUntil: 0,
};

export type AcquireResult =
  { readonly allowed: true; readonly probe: boolean } | { readonly allowed: false; readonly retryAt: number };

export interface Step<T> {
  readonly next: CircuitRecord;
  readonly result: T;
}

export function acquireStep(record: CircuitRecord, now: number, s: CircuitSettings): Step<AcquireResult> {
  switch (record.state) {
    case 'closed':
      return { next: record, result: { allowed: true, probe: false } };
    case 'open':
      if (now < record.openUntil)
        return { next: record, result: { allowed: false, retryAt: record.openUntil } };
      return {
        next: { ...record, state: 'half_open', probeUntil: now + s.probeTimeoutMs },
        result: { allowed: true, probe: true },
      };
    case 'half_open':
      if (now < record.probeUntil)
        return { next: record, result: { allowed: false, retryAt: record.probeUntil } };
      return {
        next: { ...record, probeUntil: now + s.probeTimeoutMs },
        result: { allowed: true, probe: true },
      };
  }
}

export function failureStep(record: CircuitRecord, now: number, s: CircuitSettings): CircuitRecord {
  switch (record.state) {
    case 'closed': {
      const failures = record.failures + 1;
      if (failures < s.failureThreshold) return { ...record, failures };
      return open(now, Math.min(s.baseOpenMs, s.maxOpenMs));
    }
    case 'half_open':
      return open(now, Math.min(Math.max(record.periodMs * 2, s.baseOpenMs), s.maxOpenMs));
    case 'open':
      // A send that started before the circuit opened failed late: it tells nothing new.
      return record;
  }
}

export function successStep(record: CircuitRecord): CircuitRecord {
  switch (record.state) {
    case 'closed':
      return record.failures === 0 ? record : { ...record, failures: 0 };
    case 'half_open':
      return CLOSED;
    case 'open':
      // A late success from before the circuit opened: the probe, not a straggler, decides.
      return record;
  }
}

function open(now: number, periodMs: number): CircuitRecord {
  return { state: 'open', failures: 0, openUntil: now + periodMs, periodMs, probeUntil: 0 };
}

export const STATE_CODES: Record<CircuitStateName, number> = { closed: 0, half_open: 1, open: 2 };
export const STATE_NAMES: readonly CircuitStateName[] = ['closed', 'half_open', 'open'];
