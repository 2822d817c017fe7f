import type { ChannelName } from './channel';
import { PermanentChannelError, TransientChannelError } from './channel-errors';
import { OutboundAddressError, type OutboundGuard, type VettedAddresses } from './outbound-guard';

/**
 * Vets a channel's destination through the shared guard. A refused address is the account's
 * configuration, so permanent; a name that did not resolve may resolve later, so transient.
 */
export async function vetDestination(
  guard: OutboundGuard,
  channel: ChannelName,
  host: string,
): Promise<VettedAddresses> {
  try {
    return await guard.vet(host);
  } catch (error) {
    if (!(error instanceof OutboundAddressError)) throw error;
    const message = `${channel} destination ${error.message}`;
    if (error.reason === 'dns') throw new TransientChannelError(message, 'dns', { cause: error });
    throw new PermanentChannelError(message, 'address_refused', { cause: error });
  }
}
