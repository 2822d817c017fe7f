import type { DeliveryContext } from '../ledger.repository';
import type { MessageRenderer } from '../render/message-renderer';
import { pickVariant } from '../render/variants';
import { TemplateError } from '../template';
import type { BatchDecisions } from './decisions';
import type { Ready } from './types';

/**
 * Render, before any claim: a template error is permanent for its delivery and needs no send
 * (its unit is refunded). Any other error is a bug, not the template: it is thrown, and the
 * batch goes back to the queue. A step with A/B/n variants is rendered from the contact's
 * variant (or the promoted one), which the pipeline then records on the delivery.
 */
export function renderBatch(
  admitted: readonly Ready[],
  decisions: BatchDecisions,
  renderer: MessageRenderer,
): Ready[] {
  const renderable: Ready[] = [];
  for (const r of admitted) {
    try {
      renderable.push({ ...r, ...render(renderer, r) });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      decisions.failBeforeClaim(r.ctx, error.message);
      decisions.refunds.push(r.reservation!);
    }
  }
  return renderable;
}

/** The message of one delivery, built by the one renderer (the preview uses it too), and its variant. */
function render(renderer: MessageRenderer, r: Ready): Pick<Ready, 'message' | 'variant'> {
  const ctx: DeliveryContext = r.ctx;
  const picked = ctx.campaign.content
    ? pickVariant(
        ctx.campaign.content,
        { contactId: ctx.contact.id, campaignId: ctx.campaignId, step: ctx.step },
        ctx.campaign.promotedVariant,
      )
    : null;
  const message = renderer.message(
    { deliveryId: ctx.id, campaignId: ctx.campaignId, runId: ctx.runId, tenantId: ctx.tenantId },
    {
      step: ctx.step,
      content: picked?.content ?? ctx.campaign.content,
      contact: ctx.contact,
      sender: r.account,
      layout: ctx.layout,
      tracking: ctx.campaign.tracking,
    },
  );
  return picked?.variant ? { message, variant: picked.variant } : { message };
}
