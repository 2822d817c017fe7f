import { Injectable } from '@nestjs/common';
import type { OutboundMessage } from '@herald/channels';
import { renderSubject, renderTemplate, TemplateError, type TemplateVariables } from '../template';
import type { MessageContent, MessageRecipient, MessageSender } from './message-content';

/** One message to render: the step's content (absent when the campaign has no such step), for whom, through which account. */
export interface RenderRequest {
  /** The step's index, for the error when the campaign has no such step. */
  step: number;
  content: MessageContent | null | undefined;
  contact: MessageRecipient;
  /** Not read yet: the headers a later issue adds (List-Unsubscribe) depend on the account. */
  sender: MessageSender;
}

/** The message as the channel gets it, less the ids that say which delivery it is. */
export interface RenderedMessage {
  subject: string | null;
  body: string;
}

/** Which delivery a rendered message belongs to. */
export interface MessageEnvelope {
  deliveryId: string;
  campaignId: string;
  runId: string | null;
}

/**
 * The one place a message is built from a step's content and a contact: the send pipeline's
 * render step and a dry run's preview both call it, so a preview shows what would be sent.
 * A template that cannot be rendered for the contact throws TemplateError (permanent for the
 * delivery: sending it again would fail the same way).
 */
@Injectable()
export class MessageRenderer {
  render(request: RenderRequest): RenderedMessage {
    const { subject, body } = renderParts(request);
    if (subject instanceof TemplateError) throw subject;
    if (body instanceof TemplateError) throw body;
    return { subject, body };
  }

  /**
   * What a preview shows: each part rendered on its own (null where it cannot be), and the
   * error `render` would throw for it — the same rendering, so the preview matches the send.
   */
  preview(request: RenderRequest): { subject: string | null; body: string | null; error: string | null } {
    const { subject, body } = renderParts(request);
    const error = [subject, body].find((part): part is TemplateError => part instanceof TemplateError);
    return {
      subject: subject instanceof TemplateError ? null : subject,
      body: body instanceof TemplateError ? null : body,
      error: error?.message ?? null,
    };
  }

  /** The message the channel sends for a delivery. */
  message(envelope: MessageEnvelope, request: RenderRequest): OutboundMessage {
    const { contact } = request;
    return {
      deliveryId: envelope.deliveryId,
      campaignId: envelope.campaignId,
      runId: envelope.runId,
      contact: {
        id: contact.id,
        email: contact.email,
        firstName: contact.firstName,
        lastName: contact.lastName,
        externalRef: contact.externalRef,
      },
      ...this.render(request),
    };
  }
}

/** Subject and body rendered each on its own; a part that cannot be rendered is its TemplateError. */
function renderParts(request: RenderRequest): {
  subject: string | null | TemplateError;
  body: string | TemplateError;
} {
  const { content } = request;
  if (!content) {
    const missing = new TemplateError(`campaign has no step ${request.step}`);
    return { subject: missing, body: missing };
  }
  const variables = templateVariables(request.contact);
  return {
    subject: content.subject !== undefined ? attempt(() => renderSubject(content.subject!, variables)) : null,
    body: attempt(() => renderTemplate(content.body, variables, { html: content.html === true })),
  };
}

/** The rendered text, or the TemplateError that stopped it (any other error is a bug and is thrown). */
function attempt(render: () => string): string | TemplateError {
  try {
    return render();
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
}

/** The names a template may use: the contact's fields, and its attributes under `attributes.`. */
function templateVariables(contact: MessageRecipient): TemplateVariables {
  return {
    first_name: contact.firstName,
    last_name: contact.lastName,
    email: contact.email,
    external_ref: contact.externalRef,
    attributes: contact.attributes,
  };
}
