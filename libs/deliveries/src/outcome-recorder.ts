import type { DeliveryRef, LedgerRepository } from './ledger.repository';
import { MicroBatcher } from './micro-batcher';
import { retryTransient } from './transient-retry';

export type SentRecord = DeliveryRef & { providerMessageId: string };
export type FailedRecord = DeliveryRef & { error: string; permanent: boolean };
export type ReleasedRecord = DeliveryRef & { error: string };

/** How long a record waits for others to share its statement. */
const LINGER_MS = 2;
const MAX_BATCH = 500;
/**
 * `sent` statements of a process in flight at once. Concurrent ones upsert the same analytics
 * rows and queue on each other's locks; one at a time, what arrives meanwhile shares the next,
 * so the statements grow with the send rate instead of multiplying.
 */
const SENT_IN_FLIGHT = 1;

/**
 * Writes each send's outcome to the ledger as soon as the provider answered: what a crash can
 * leave sent but unrecorded is only what is on the wire, not a whole batch. Records arriving
 * within a couple of milliseconds share one statement. A write that fails transiently (Postgres
 * restarting) is retried with backoff until it lands, never dropped: a send that happened must
 * become `sent`, and one that did not must leave `sending`, or the lease would run out and the
 * delivery be repeated (or held as `unknown`) for nothing. The statements are guarded by status
 * and claim token, so a retried write never moves a row twice: a `sent` statement whose answer
 * was lost (it committed) finds its rows `sent` on the retry and inserts no second interaction.
 * A connection gone silent under the one in-flight `sent` statement holds it, and the records
 * waiting behind it, only until the pool's client-side bound (libs/persistence QueryBoundClient).
 */
export class OutcomeRecorder {
  private readonly sentBatch: MicroBatcher<SentRecord, undefined>;
  private readonly failedBatch: MicroBatcher<{ item: FailedRecord; token: string }, undefined>;
  private readonly releasedBatch: MicroBatcher<{ item: ReleasedRecord; token: string }, undefined>;

  constructor(
    private readonly ledger: Pick<LedgerRepository, 'markSent' | 'markFailed' | 'release'>,
    private readonly onRetry: (what: string, error: unknown, attempt: number) => void = () => undefined,
  ) {
    this.sentBatch = new MicroBatcher(
      async (items) => {
        await this.persist('record sent', () => this.ledger.markSent(items));
        return items.map(() => undefined);
      },
      MAX_BATCH,
      LINGER_MS,
      SENT_IN_FLIGHT,
    );
    this.failedBatch = new MicroBatcher(
      async (entries) => {
        for (const [token, items] of byToken(entries))
          await this.persist('record failed', () => this.ledger.markFailed(items, token));
        return entries.map(() => undefined);
      },
      MAX_BATCH,
      LINGER_MS,
    );
    this.releasedBatch = new MicroBatcher(
      async (entries) => {
        for (const [token, items] of byToken(entries))
          await this.persist('record released', () => this.ledger.release(items, token));
        return entries.map(() => undefined);
      },
      MAX_BATCH,
      LINGER_MS,
    );
  }

  /** Resolves once the delivery is `sent` in the ledger. */
  sent(item: SentRecord): Promise<void> {
    return this.sentBatch.submit(item);
  }

  /** Resolves once the delivery is `failed` (if `token`'s attempt still held it). */
  failed(item: FailedRecord, token: string): Promise<void> {
    return this.failedBatch.submit({ item, token });
  }

  /** Resolves once the delivery is back to `pending` (if `token`'s attempt still held it). */
  released(item: ReleasedRecord, token: string): Promise<void> {
    return this.releasedBatch.submit({ item, token });
  }

  private persist(what: string, write: () => Promise<unknown>): Promise<unknown> {
    return retryTransient(what, write, { onRetry: (error, attempt) => this.onRetry(what, error, attempt) });
  }
}

function byToken<T>(entries: readonly { item: T; token: string }[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const { item, token } of entries) groups.set(token, [...(groups.get(token) ?? []), item]);
  return groups;
}
