import type { DeliveryContext } from '../ledger.repository';
import type { MessageRenderer } from '../render/message-renderer';
import { TemplateError } from '../template';
import type { BatchDecisions } from './decisions';
import type { Ready } from './types';

/**
 * Render, before any claim: a template error is permanent for its delivery and needs no send
 * (its unit is refunded). Any other error is a bug, not the template: it is thrown, and the
 * batch goes back to the queue.
 */
export function renderBatch(
  admitted: readonly Ready[],
  decisions: BatchDecisions,
  renderer: MessageRenderer,
): Ready[] {
  const renderable: Ready[] = [];
  for (const r of admitted) {
    try {
      renderable.push({ ...r, message: render(renderer, r) });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      decisions.failBeforeClaim(r.ctx, error.message);
      decisions.refunds.push(r.reservation!);
    }
  }
  return renderable;
}

/** The message of one delivery, built by the one renderer (the preview uses it too). */
function render(renderer: MessageRenderer, r: Ready) {
  const ctx: DeliveryContext = r.ctx;
  return renderer.message(
    { deliveryId: ctx.id, campaignId: ctx.campaignId, runId: ctx.runId, tenantId: ctx.tenantId },
    {
      step: ctx.step,
      content: ctx.campaign.content,
      contact: ctx.contact,
      sender: r.account,
      layout: ctx.layout,
      tracking: ctx.campaign.tracking,
    },
  );
}
