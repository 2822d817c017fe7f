/** What can happen to a message after it was sent, whatever reported it. */
export const ENGAGEMENT_KINDS = [
  'delivered',
  'bounced',
  'complained',
  'opened',
  'clicked',
  'replied',
  'unsubscribed',
  'converted',
] as const;
export type EngagementKind = (typeof ENGAGEMENT_KINDS)[number];

/**
 * One engagement event to record. Either `deliveryId` (the recorder copies the delivery's
 * campaign, step, variant, sender account and contact) or, for an event no delivery is known
 * for yet, `contactId` with whatever dimensions the caller knows.
 */
export interface EngagementInput {
  tenantId: string;
  kind: EngagementKind;
  /** sendgrid | ses | postmark | mailgun | tracking | unsubscribe-page | api … */
  source: string;
  /** The source's own id for this event: recording the same (source, id) twice is a no-op. */
  sourceEventId: string;
  occurredAt: Date;
  deliveryId?: string | null;
  contactId?: string | null;
  campaignId?: string | null;
  step?: number | null;
  bounceType?: 'hard' | 'soft' | null;
  /** A prefetcher or scanner, not a person. */
  machine?: boolean;
  url?: string | null;
  value?: string | null;
  currency?: string | null;
  details?: Record<string, unknown>;
}

/** The row as recorded, with the dimensions copied from its delivery. */
export interface EngagementEvent {
  id: string;
  tenantId: string;
  kind: EngagementKind;
  source: string;
  sourceEventId: string;
  occurredAt: Date;
  deliveryId: string | null;
  contactId: string | null;
  campaignId: string | null;
  step: number | null;
  variant: string | null;
  senderAccountId: string | null;
  bounceType: 'hard' | 'soft' | null;
  machine: boolean;
  url: string | null;
  value: string | null;
  currency: string | null;
}

export interface RecordOutcome {
  /** False when the event was already recorded (a replay): nothing else should be done for it. */
  recorded: boolean;
  /** The recorded row (on a replay: the one recorded first). */
  event: EngagementEvent;
}
