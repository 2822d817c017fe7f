import type { ChannelName } from '@herald/channels';
import type { DeliveryContext } from '../ledger.repository';
import {
  defaultGuarantee,
  type DeliveryGuarantee,
  type SenderAccountsRepository,
  type SendingAccount,
} from '../sender-accounts.repository';
import type { BatchDecisions } from './decisions';
import { PAUSED_RECHECK_MS } from './precheck';
import type { Ready, Step } from './types';

export const UNKNOWN_REASON =
  'outcome unknown: the attempt sending it stopped before recording whether the provider accepted it; not sent again until an operator resends or closes it';

/**
 * Account: the sender account of each delivery (one lookup per account in the batch). A
 * `sending` row past precheck is one whose attempt died: held as `unknown` where the account
 * takes no repeat. Missing or disabled accounts fail the delivery with what to do; paused ones wait.
 */
export async function resolveAccounts(
  accounts: Pick<SenderAccountsRepository, 'forSending'>,
  step: Step,
  candidates: readonly DeliveryContext[],
  now: number,
  decisions: BatchDecisions,
): Promise<Ready[]> {
  const found = new Map<string, SendingAccount | undefined>();
  for (const ctx of candidates) {
    const key = `${ctx.tenantId}:${ctx.senderAccountId}`;
    if (!found.has(key))
      found.set(
        key,
        await step('account lookup', () => accounts.forSending(ctx.tenantId, ctx.senderAccountId, now)),
      );
  }
  const ready: Ready[] = [];
  for (const ctx of candidates) {
    const account = found.get(`${ctx.tenantId}:${ctx.senderAccountId}`);
    if (ctx.status === 'sending' && guaranteeOf(ctx, account) === 'at_most_once') {
      decisions.holdUnknown(ctx, UNKNOWN_REASON);
    } else if (!account) {
      decisions.failBeforeClaim(
        ctx,
        `sender account ${ctx.senderAccountId} does not exist (deleted): the campaign needs another account`,
      );
    } else if (account.status === 'disabled') {
      decisions.failBeforeClaim(
        ctx,
        `sender account ${ctx.senderAccountId} is disabled: enable it to send through it`,
      );
    } else if (account.status === 'paused') {
      decisions.decide(ctx, {
        kind: 'delay',
        until: now + PAUSED_RECHECK_MS,
        reason: 'sender account paused',
      });
    } else {
      ready.push({ ctx, account });
    }
  }
  return ready;
}

/** What a crash that left this delivery's send unknown means: the account's choice, or the channel's default. */
function guaranteeOf(ctx: DeliveryContext, account: SendingAccount | undefined): DeliveryGuarantee {
  return account?.deliveryGuarantee ?? defaultGuarantee(ctx.channel as ChannelName);
}
