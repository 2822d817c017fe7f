import { formatCircuitKey, type CircuitSnapshot } from '@herald/resilience';
import { z } from 'zod';
import { breakerStateFields, breakerStateView } from '../engine/breaker-state';
import { named } from '../http/openapi';

/** A source account's fleet-wide breaker, as sender accounts' circuits are shown, keyed by its kind. */
export const SourceAccountCircuitSchema = named(
  'SourceAccountCircuit',
  z.object({
    key: z.string().meta({ description: '`<kind>:<source account id>`.' }),
    kind: z.string(),
    source_account_id: z.string(),
    ...breakerStateFields(
      z
        .string()
        .meta({
          format: 'date-time',
          description: 'While open: when the next request may go (then it is half-open).',
        })
        .nullable(),
    ),
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
    ...breakerStateView(c),
  };
}
