import { retryDelay } from '@herald/resilience';
import type { LedgerRepository } from '../ledger.repository';
import type { OutcomeRecorder } from '../outcome-recorder';
import type { BatchDecisions } from './decisions';
import type { SendVerdict } from './send';
import { ref, type Claim, type Ready, type Step } from './types';

/**
 * Record: each send's outcome written as soon as the provider answered (the outcome recorder
 * batches and retries those writes until they land), and, once the batch's sends are done, the
 * decisions that needed no send, in one round of statements.
 */
export class RecordStage {
  constructor(
    private readonly recorder: Pick<OutcomeRecorder, 'sent' | 'failed' | 'released'>,
    private readonly ledger: Pick<LedgerRepository, 'markUnknown' | 'markFailed' | 'defer' | 'settle'>,
    private readonly step: Step,
    private readonly nowMs: () => number,
  ) {}

  /** Writes what the send came to; the delivery's unit is committed if it went out, else refunded. */
  async send(r: Ready, claim: Claim, verdict: SendVerdict, decisions: BatchDecisions): Promise<void> {
    switch (verdict.kind) {
      case 'sent':
        await this.recorder.sent({ ...ref(r.ctx), providerMessageId: verdict.providerMessageId });
        decisions.decide(r.ctx, { kind: 'sent' });
        decisions.commits.push(r.reservation!);
        return;
      case 'failed':
        decisions.refunds.push(r.reservation!);
        decisions.decide(r.ctx, { kind: 'failed', reason: verdict.reason });
        await this.recorder.failed(
          { ...ref(r.ctx), error: verdict.error, permanent: verdict.permanent },
          claim.token,
        );
        return;
      case 'retry':
        decisions.refunds.push(r.reservation!);
        decisions.decide(r.ctx, {
          kind: 'delay',
          until: this.nowMs() + retryDelay(claim.attempt - 1, verdict.retryAfterMs),
          reason: 'transient error',
        });
        await this.recorder.released({ ...ref(r.ctx), error: verdict.reason }, claim.token);
        return;
    }
  }

  /** The batch's writes that need no send. Returns the channels of the rows moved to `unknown`. */
  decisions(decisions: BatchDecisions): Promise<{ channel: string }[]> {
    return this.step('record', async () => {
      const [moved] = await Promise.all([
        this.ledger.markUnknown(decisions.unknown),
        this.ledger.markFailed(decisions.failedUnclaimed),
        this.ledger.defer(decisions.deferred),
        this.ledger.settle(decisions.skipped, 'skipped'),
        this.ledger.settle(decisions.cancelled, 'cancelled'),
      ]);
      return moved;
    });
  }
}
