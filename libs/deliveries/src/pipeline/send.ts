import { PermanentChannelError, UnknownChannelError, type ChannelRegistry } from '@herald/channels';
import { classifySendError, type SendFailure } from '../send-errors';
import type { CircuitTally } from './breaker';
import type { Claim, Ready } from './types';

/** What one provider call came to. */
export type SendVerdict = { kind: 'sent'; providerMessageId: string } | SendFailure;

/**
 * Send: the provider call, with the delivery key as idempotency key. Its answer is classified
 * (send-errors.ts) and counted for the circuit: a permanent refusal means the provider is up;
 * a transient error (or one no channel should throw) counts against it.
 */
export async function sendOne(
  channels: Pick<ChannelRegistry, 'get'>,
  r: Ready,
  claim: Claim,
  tally: CircuitTally,
): Promise<SendVerdict> {
  try {
    const result = await channels.get(r.account.channel).send(r.message!, {
      idempotencyKey: r.ctx.deliveryKey,
      account: { id: r.account.id, config: r.account.config },
    });
    tally.successes += 1;
    return { kind: 'sent', providerMessageId: result.providerMessageId };
  } catch (error) {
    const failure = classifySendError(error, claim.attempt);
    if (failure.kind === 'retry') tally.failures += 1;
    else if (error instanceof PermanentChannelError) tally.successes += 1;
    else if (!(error instanceof UnknownChannelError)) tally.failures += 1;
    return failure;
  }
}
