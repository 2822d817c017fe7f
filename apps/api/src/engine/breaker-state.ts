import type { CircuitSnapshot } from '@herald/resilience';
import { z } from 'zod';

/**
 * A breaker's state as every circuit view shows it (a sender account's channel, a source
 * account's kind): each view adds its own key and account fields before these. `openUntil` is
 * the view's own schema, worded for what the account sends.
 */
export function breakerStateFields<O extends z.ZodType>(openUntil: O) {
  return {
    state: z.enum(['closed', 'half_open', 'open']),
    failures: z.number().int().meta({ description: 'Consecutive transient failures while closed.' }),
    open_until: openUntil,
    period_ms: z.number().int().meta({ description: 'The last open period (doubles on each failed probe).' }),
  };
}

export function breakerStateView(c: CircuitSnapshot) {
  return {
    state: c.state,
    failures: c.failures,
    open_until: c.state === 'open' && c.openUntil > 0 ? new Date(c.openUntil).toISOString() : null,
    period_ms: c.periodMs,
  };
}
