import type { ExperimentSettings, MessageVariant } from './variants';

/**
 * What a delivery says, before it is rendered for its contact: the templates of one message.
 * The campaign's step as deliveries sees it (campaigns stores more around it: delays, order).
 */
export interface MessageContent {
  subject?: string;
  body: string;
  /** The body is HTML: substituted values are escaped. Same as `format: 'html'`. */
  html?: boolean;
  /** A/B/n: each contact gets one variant's subject and/or body (render/variants.ts picks it). */
  variants?: MessageVariant[];
  /** How the variants' winner is decided (campaigns evaluates it). */
  experiment?: ExperimentSettings;
  /** How the body is written (default `html` when `html` is true, else `text`). */
  format?: MessageFormat;
}

/** A body is plain text, Markdown or HTML; every email goes out as text and HTML either way. */
export const MESSAGE_FORMATS = ['text', 'markdown', 'html'] as const;
export type MessageFormat = (typeof MESSAGE_FORMATS)[number];

/** The campaign's tracking choices: both off unless the campaign turns them on. */
export interface MessageTracking {
  opens: boolean;
  clicks: boolean;
}

/** The contact fields a template may name. */
export interface MessageRecipient {
  id: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  externalRef: string | null;
  attributes: Record<string, unknown>;
}

/** The account a message goes out through. */
export interface MessageSender {
  id: string;
  channel: string;
  /** The account's settings (its config less secrets): `postal_address` goes in every email's footer. */
  settings?: Readonly<Record<string, unknown>>;
}
