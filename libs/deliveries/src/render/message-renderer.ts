import { Inject, Injectable, Optional } from '@nestjs/common';
import type { OutboundMessage } from '@herald/channels';
import { renderSubject, TemplateError, type TemplateVariables } from '../template';
import type { LinkSubject } from './links/link-token';
import { PublicLinks } from './links/public-links';
import { renderBody } from './mail-body';
import { applyLayout, footerHtml, footerText } from './mail-layout';
import { addTracking } from './mail-tracking';
import type { MessageContent, MessageRecipient, MessageSender, MessageTracking } from './message-content';

/** One message to render: the step's content (absent when the campaign has no such step), for whom, through which account. */
export interface RenderRequest {
  /** The step's index, for the error when the campaign has no such step. */
  step: number;
  content: MessageContent | null | undefined;
  contact: MessageRecipient;
  /** Its settings' `postal_address` goes in the footer. */
  sender: MessageSender;
  /** The tenant's HTML layout (`{{{content}}}` slot); absent or null: the default layout. */
  layout?: string | null;
  /** The campaign's tracking; absent or null: none. */
  tracking?: MessageTracking | null;
}

/** The message as the channel gets it, less the ids that say which delivery it is. */
export interface RenderedMessage {
  subject: string | null;
  /** The text part. */
  body: string;
  html: string;
  headers: Record<string, string>;
}

/** Which delivery a rendered message belongs to. */
export interface MessageEnvelope {
  deliveryId: string;
  campaignId: string;
  runId: string | null;
  /** With it (and PUBLIC_BASE_URL), the message carries its signed links: unsubscribe, tracking. */
  tenantId?: string;
}

/**
 * The delivery id a preview's links are signed for: no delivery has it, so a preview's
 * unsubscribe link shows the page's "not found" instead of unsubscribing anyone.
 */
export const PREVIEW_DELIVERY_ID = '00000000-0000-0000-0000-000000000000';

const NO_TRACKING: MessageTracking = { opens: false, clicks: false };

/**
 * The one place a message is built from a step's content and a contact: the send pipeline's
 * render step and the previews call it, so a preview shows what would be sent. Every email is
 * text and HTML (the body's format decides which is derived), in the tenant's layout, with a
 * footer (the sender's postal address, the unsubscribe link) and, with the links, the
 * List-Unsubscribe headers of RFC 8058 and the campaign's tracking. A template that cannot be
 * rendered for the contact throws TemplateError (permanent for the delivery: sending it again
 * would fail the same way).
 */
@Injectable()
export class MessageRenderer {
  constructor(@Optional() @Inject(PublicLinks) private readonly links?: PublicLinks) {}

  /** `message`: which delivery it is, for its signed links (none without it). */
  render(request: RenderRequest, message?: LinkSubject): RenderedMessage {
    const parts = renderParts(request);
    if (parts.subject instanceof TemplateError) throw parts.subject;
    if (parts.body instanceof TemplateError) throw parts.body;
    return this.assemble(request, parts.subject, parts.body, message);
  }

  /**
   * What a dry run's preview shows: each part rendered on its own (null where it cannot be),
   * and the error `render` would throw for it — the same rendering, so the preview matches the send.
   */
  preview(request: RenderRequest): { subject: string | null; body: string | null; error: string | null } {
    const { subject, body } = renderParts(request);
    const error = [subject, body].find((part): part is TemplateError => part instanceof TemplateError);
    return {
      subject: subject instanceof TemplateError ? null : subject,
      body: body instanceof TemplateError ? null : body.text,
      error: error?.message ?? null,
    };
  }

  /** The message the channel sends for a delivery. */
  message(envelope: MessageEnvelope, request: RenderRequest): OutboundMessage {
    const { contact } = request;
    const linked =
      envelope.tenantId === undefined
        ? undefined
        : { tenantId: envelope.tenantId, deliveryId: envelope.deliveryId, contactId: contact.id };
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
      ...this.render(request, linked),
    };
  }

  private assemble(
    request: RenderRequest,
    subject: string | null,
    body: { html: string; text: string },
    message: LinkSubject | undefined,
  ): RenderedMessage {
    // Links only for a real message, and only where recipients can reach them.
    const links = message && this.links?.enabled ? this.links : undefined;
    const unsubscribeUrl = links && message ? links.unsubscribe(message) : null;
    const postal = request.sender.settings?.postal_address;
    const footer = { postalAddress: typeof postal === 'string' && postal ? postal : null, unsubscribeUrl };
    let html = applyLayout(request.layout, body.html, footerHtml(footer));
    if (links && message) {
      html = addTracking(html, request.tracking ?? NO_TRACKING, {
        click: (index, url) => links.click(message, index, url),
        openPixel: () => links.openPixel(message),
        unsubscribeUrl,
      });
    }
    const headers: Record<string, string> = {};
    if (unsubscribeUrl) {
      // RFC 2369 and RFC 8058: mailbox providers show an unsubscribe button that POSTs here.
      headers['List-Unsubscribe'] = `<${unsubscribeUrl}>`;
      headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
    }
    return { subject, body: `${body.text}${footerText(footer)}`, html, headers };
  }
}

/** Subject and body rendered each on its own; a part that cannot be rendered is its TemplateError. */
function renderParts(request: RenderRequest): {
  subject: string | null | TemplateError;
  body: { html: string; text: string } | TemplateError;
} {
  const { content } = request;
  if (!content) {
    const missing = new TemplateError(`campaign has no step ${request.step}`);
    return { subject: missing, body: missing };
  }
  const variables = templateVariables(request.contact);
  return {
    subject: content.subject !== undefined ? attempt(() => renderSubject(content.subject!, variables)) : null,
    body: attempt(() => renderBody(content, variables)),
  };
}

/** The rendered part, or the TemplateError that stopped it (any other error is a bug and is thrown). */
function attempt<T>(render: () => T): T | TemplateError {
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
