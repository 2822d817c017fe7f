import { randomUUID } from 'node:crypto';
import type { DeliveryRef, LedgerRepository } from '../ledger.repository';
import { MicroBatcher } from '../micro-batcher';
import type { Claim, Step } from './types';

/** How long a claim waits for the claims of other sends starting at the same moment. */
const CLAIM_LINGER_MS = 1;
const MAX_CLAIMS = 500;

/**
 * Claim: a delivery becomes `sending` for one attempt just before its send. The claims of the
 * sends about to start, across batches and accounts, share one statement per few milliseconds.
 * Each statement is one attempt with its own token; it is never given up (a claim that landed
 * unseen would hold rows in `sending` with no send), and repeating it with its token takes the
 * same rows again.
 */
export class ClaimStage {
  private readonly batcher: MicroBatcher<DeliveryRef & { resendExpired: boolean }, Claim | undefined>;

  constructor(ledger: Pick<LedgerRepository, 'claim'>, leaseMs: number, step: Step) {
    this.batcher = new MicroBatcher(
      async (items) => {
        const token: string = randomUUID();
        const claimed = await step('claim', () => ledger.claim(items, leaseMs, token), { untilDone: true });
        return items.map((i) => {
          const attempt = claimed.get(i.id);
          return attempt === undefined ? undefined : { attempt, token };
        });
      },
      MAX_CLAIMS,
      CLAIM_LINGER_MS,
    );
  }

  /**
   * The attempt now holding the delivery, or undefined when another one does. `resendExpired`:
   * a `sending` row whose lease ran out may be taken (its account takes a repeat).
   */
  claim(delivery: DeliveryRef, resendExpired: boolean): Promise<Claim | undefined> {
    return this.batcher.submit({ ...delivery, resendExpired });
  }
}
