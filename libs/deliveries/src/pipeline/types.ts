import type { OutboundMessage } from '@herald/channels';
import type { Reservation } from '@herald/rate-limit';
import type { DeliveryContext, DeliveryRef } from '../ledger.repository';
import type { SendingAccount } from '../sender-accounts.repository';

export interface DeliveryJob {
  tenantId: string;
  deliveryId: string;
}

/** What the queue should do with the job once its delivery has been through the pipeline. */
export type DeliveryOutcome =
  | { kind: 'sent' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; reason: string }
  /** Held for an operator: a crash left the send's outcome unknown and the account takes no repeat. */
  | { kind: 'unknown'; reason: string }
  | { kind: 'noop'; reason: string }
  /** Not an attempt: come back at `until` (breaker open, quota window, lease held, paused). */
  | { kind: 'delay'; until: number; reason: string }
  /** Internal: beyond the account's send window this round; goes into the next batch. */
  | { kind: 'again' };

/** A delivery past the account stage: its context and the account it goes out through. */
export interface Ready {
  ctx: DeliveryContext;
  account: SendingAccount;
  reservation?: Reservation;
  message?: OutboundMessage;
  /** The A/B/n variant the message was rendered with (render stage; undefined without variants). */
  variant?: string;
}

/** A delivery this process holds for one attempt: the attempt number, and its claim's token. */
export interface Claim {
  attempt: number;
  token: string;
}

/**
 * One step against Postgres or Redis, retried while they refuse it (transient-retry.ts);
 * `untilDone` steps are never given up.
 */
export type Step = <T>(name: string, work: () => Promise<T>, options?: { untilDone?: boolean }) => Promise<T>;

export function ref(ctx: DeliveryContext): DeliveryRef {
  return { tenantId: ctx.tenantId, id: ctx.id };
}
