import { formatCircuitKey, type CircuitSnapshot } from '@herald/resilience';
import { z } from 'zod';
import { named } from '../http/openapi';

/** A source account's fleet-wide breaker, as sender accounts' circuits are shown, keyed by its kind. */
export const SourceAccountCircuitSchema = named(
  'SourceAccountCircuit',
  z.object({
    key: z.string().meta({ description: '`<kind>:<source account id>`.' }),
    kind: z.string(),
    source_account_id: z.string(),
    state: z.enum(['closed', 'half_open', 'open']),
    failures: z.number().int().meta({ description: 'Consecutive transient failures while closed.' }),
    open_until: z
      .string()
      .meta({
        format: 'date-time',
        description: 'While open: when the next request may go (then it is half-open).',
      })
      .nullable(),
    period_ms: z.number().int().meta({ description: 'The last open period (doubles on each failed probe).' }),
  }),
);

export const EXAMPLE_SOURCE_CIRCUIT = {
  key: 'http-directory:0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f',
  kind: 'http-directory',
  source_account_id: '0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f',
  state: 'closed',
  failures: 2,
  open_until: null,
  period_ms: 0,
};

export function sourceCircuitView(c: CircuitSnapshot) {
  return {
    key: formatCircuitKey(c.key),
    kind: c.key.channel,
    source_account_id: c.key.account,
    state: c.state,
    failures: c.failures,
    open_until: c.state === 'open' && c.openUntil > 0 ? new Date(c.openUntil).toISOString() : null,
    period_ms: c.periodMs,
  };
}
