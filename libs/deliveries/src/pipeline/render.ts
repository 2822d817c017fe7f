import type { OutboundMessage } from '@herald/channels';
import type { DeliveryContext } from '../ledger.repository';
import { renderSubject, renderTemplate, TemplateError } from '../template';
import type { BatchDecisions } from './decisions';
import type { Ready } from './types';

/**
 * Render, before any claim: a template error is permanent for its delivery and needs no send
 * (its unit is refunded). Any other error is a bug, not the template: it is thrown, and the
 * batch goes back to the queue.
 */
export function renderBatch(admitted: readonly Ready[], decisions: BatchDecisions): Ready[] {
  const renderable: Ready[] = [];
  for (const r of admitted) {
    try {
      renderable.push({ ...r, message: render(r.ctx) });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      decisions.failBeforeClaim(r.ctx, error.message);
      decisions.refunds.push(r.reservation!);
    }
  }
  return renderable;
}

/** The message of one delivery: its campaign step's template with the contact's variables. */
export function render(ctx: DeliveryContext): OutboundMessage {
  const step = ctx.campaign.steps[ctx.step];
  if (!step) throw new TemplateError(`campaign has no step ${ctx.step}`);
  const variables = {
    first_name: ctx.contact.firstName,
    last_name: ctx.contact.lastName,
    email: ctx.contact.email,
    external_ref: ctx.contact.externalRef,
    attributes: ctx.contact.attributes,
  };
  return {
    deliveryId: ctx.id,
    campaignId: ctx.campaignId,
    runId: ctx.runId,
    contact: {
      id: ctx.contact.id,
      email: ctx.contact.email,
      firstName: ctx.contact.firstName,
      lastName: ctx.contact.lastName,
      externalRef: ctx.contact.externalRef,
    },
    subject: step.subject !== undefined ? renderSubject(step.subject, variables) : null,
    body: renderTemplate(step.body, variables, { html: step.html === true }),
  };
}
