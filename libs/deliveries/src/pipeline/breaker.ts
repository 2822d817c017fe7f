import type { CircuitBreaker, CircuitKey } from '@herald/resilience';
import type { BatchDecisions } from './decisions';
import type { Ready } from './types';

/** Deliveries held back while a half-open breaker's single probe is in flight. */
export const PROBE_WAIT_MS = 1000;
/**
 * Sends per sender account in one batch start at one and double with each fully successful
 * batch (slow start); a transient failure brings them back to one. A provider that goes down
 * then sees a handful of failed calls before the breaker opens, not a whole batch.
 */
export const MAX_SEND_WINDOW = 512;

/** How one circuit's sends went in a batch. */
export interface CircuitTally {
  key: CircuitKey;
  failures: number;
  successes: number;
}

/**
 * Breaker: per circuit (channel and account), whether it lets sends through and how many this
 * batch may make (its slow-start window); afterwards, what the sends said about the provider.
 */
export class BreakerStage {
  /** Per circuit: how many sends the next batch may make. */
  private readonly windows = new Map<string, number>();

  constructor(
    private readonly breaker: Pick<CircuitBreaker, 'acquire' | 'recordSuccess' | 'recordFailure'>,
    private readonly warn: (message: string, error: unknown) => void,
  ) {}

  /** The group's deliveries that may be sent now; the others wait (breaker) or go round again (window). */
  async gate(group: readonly Ready[], now: number, decisions: BatchDecisions): Promise<Ready[]> {
    const first = group[0];
    if (!first) return [];
    const circuit = circuitOf(first);
    const gate = await this.breaker.acquire(circuit);
    if (!gate.allowed) {
      for (const r of group)
        decisions.decide(r.ctx, { kind: 'delay', until: gate.retryAt, reason: 'circuit open' });
      return [];
    }
    // A half-open circuit allows its one probe; the others wait for its verdict.
    const window = gate.probe ? 1 : (this.windows.get(circuitId(circuit)) ?? 1);
    for (const r of group.slice(window)) {
      decisions.decide(
        r.ctx,
        gate.probe
          ? { kind: 'delay', until: now + PROBE_WAIT_MS, reason: 'circuit half-open' }
          : { kind: 'again' },
      );
    }
    return group.slice(0, window);
  }

  /** Adjusts the circuit's window and tells the breaker; bookkeeping that fails is logged, never thrown. */
  async record(tally: CircuitTally): Promise<void> {
    const id = circuitId(tally.key);
    const window = this.windows.get(id) ?? 1;
    if (tally.failures > 0) this.windows.set(id, 1);
    else if (tally.successes >= window) this.windows.set(id, Math.min(window * 2, MAX_SEND_WINDOW));
    try {
      if (tally.failures === 0) {
        if (tally.successes > 0) await this.breaker.recordSuccess(tally.key);
        return;
      }
      // A batch's failures count one by one, up to what opens the circuit.
      for (let i = 0; i < Math.min(tally.failures, 3); i++) await this.breaker.recordFailure(tally.key);
    } catch (error) {
      this.warn('circuit breaker bookkeeping failed', error);
    }
  }
}

export function circuitOf(r: Ready): CircuitKey {
  return { channel: r.account.channel, account: r.account.id };
}

export function circuitId(key: CircuitKey): string {
  return `${key.channel}:${key.account}`;
}
