import { QUEUE_NAMES } from '@herald/queues';
import type { CircuitSnapshot } from '@herald/resilience';
import { formatCircuitKey } from '@herald/resilience';
import { z } from 'zod';
import { named } from '../http/openapi';
import { SourceAccountCircuitSchema, sourceCircuitView } from '../sourcing/source-account-circuit.schemas';
import { breakerStateFields, breakerStateView } from './breaker-state';
import type { CircuitAccountType } from '@herald/sourcing';

const iso = z.string().meta({ format: 'date-time' });

/** The job states a queue is counted in, as BullMQ names them and as the API shows them. */
export const JOB_STATES = {
  waiting: 'waiting',
  active: 'active',
  delayed: 'delayed',
  prioritized: 'prioritized',
  'waiting-children': 'waiting_children',
  failed: 'failed',
  completed: 'completed',
} as const;
type ShownState = (typeof JOB_STATES)[keyof typeof JOB_STATES];

export const QueueDepthsSchema = named(
  'QueueDepths',
  z.object({
    data: z.array(
      z.object({
        name: z.enum(QUEUE_NAMES),
        counts: z
          .object(
            Object.fromEntries(Object.values(JOB_STATES).map((s) => [s, z.number().int()])) as Record<
              ShownState,
              z.ZodNumber
            >,
          )
          .meta({ description: 'Jobs in each state (completed and failed jobs are kept for a while).' }),
      }),
    ),
  }),
);

export const queueNameParams = z.object({
  name: z.enum(QUEUE_NAMES).meta({ examples: ['deliveries'] }),
});

export const circuitKeyParams = z.object({
  key: z.string().meta({
    description: '`<channel>:<sender account id>` or `<kind>:<source account id>`.',
    examples: ['webhook:0190f5e4-7777-7c3d-8e4f-5a6b7c8d9e0f'],
  }),
});

export const openCircuitBody = z
  .strictObject({
    duration_seconds: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(86_400, 'must be at most 86400 (a day)')
      .optional()
      .meta({ description: 'How long to hold it open (default 60 s, the longest automatic period).' }),
  })
  .optional();

export const CircuitSchema = named(
  'Circuit',
  z.object({
    key: z.string().meta({ description: '`<channel>:<sender account id>`.' }),
    channel: z.string(),
    sender_account_id: z.string(),
    ...breakerStateFields(
      iso.nullable().meta({ description: 'While open: when the next probe may go (then it is half-open).' }),
    ),
  }),
);

/**
 * A circuit of the fleet's breaker, as the admin routes show it: a sender account's (as
 * `Circuit`) or a source account's (as `SourceAccountCircuit`), told apart by `account_type`.
 */
export const FleetCircuitSchema = named(
  'FleetCircuit',
  z.discriminatedUnion('account_type', [
    CircuitSchema.extend({ account_type: z.literal('sender') }),
    SourceAccountCircuitSchema.extend({ account_type: z.literal('source') }),
  ]),
);

export const CircuitListSchema = named('CircuitList', z.object({ data: z.array(FleetCircuitSchema) }));

export const EXAMPLE_CIRCUIT = {
  key: 'webhook:0190f5e4-7777-7c3d-8e4f-5a6b7c8d9e0f',
  channel: 'webhook',
  sender_account_id: '0190f5e4-7777-7c3d-8e4f-5a6b7c8d9e0f',
  state: 'open',
  failures: 0,
  open_until: '2026-11-22T10:16:00.000Z',
  period_ms: 4000,
};

export const EXAMPLE_FLEET_CIRCUIT = { ...EXAMPLE_CIRCUIT, account_type: 'sender' };

/** A circuit whose account type is known (see circuitAccountType). */
export function fleetCircuitView(c: CircuitSnapshot, type: CircuitAccountType) {
  return type === 'sender'
    ? { ...circuitView(c), account_type: type }
    : { ...sourceCircuitView(c), account_type: type };
}

export function circuitView(c: CircuitSnapshot) {
  return {
    key: formatCircuitKey(c.key),
    channel: c.key.channel,
    sender_account_id: c.key.account,
    ...breakerStateView(c),
  };
}

export const RetriedJobsSchema = named(
  'RetriedJobs',
  z.object({ queue: z.enum(QUEUE_NAMES), retried: z.number().int() }),
);
