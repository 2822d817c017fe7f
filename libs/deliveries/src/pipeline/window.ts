import { isInsideWindow, nextOpening } from '@herald/time';
import { sendWindowSpec } from '../send-window';
import type { BatchDecisions } from './decisions';
import type { Ready } from './types';

/**
 * Window: outside the campaign's send window (in its zone, else the account's), a delivery is
 * deferred to the next opening.
 */
export function insideSendWindow(ready: readonly Ready[], now: number, decisions: BatchDecisions): Ready[] {
  return ready.filter((r) => {
    const window = r.ctx.campaign.sendWindow;
    if (!window) return true;
    const spec = sendWindowSpec(window, r.account.quota.timeZone);
    if (isInsideWindow(spec, now)) return true;
    decisions.defer(r.ctx, nextOpening(spec, now), 'outside the send window', 'send window closed');
    return false;
  });
}
