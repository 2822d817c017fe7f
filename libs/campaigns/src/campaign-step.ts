import type { MessageContent } from '@herald/deliveries';

/**
 * A campaign's step as stored in `campaigns.steps`: the message deliveries renders, and for
 * sequences how long it waits after the previous step (or the enrollment).
 */
export interface CampaignStep extends MessageContent {
  delay_seconds?: number;
}
