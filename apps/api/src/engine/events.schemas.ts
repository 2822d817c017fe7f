import { SEQUENCE_EVENT_TYPES, sequenceEventSchema, type EventOutcome } from '@herald/sequences';
import { z } from 'zod';
import { named } from '../http/openapi';

export const eventBody = sequenceEventSchema;

export const EventResultSchema = named(
  'EventResult',
  z.object({
    interaction_id: z.uuid().nullable().meta({
      description:
        'The reply, bounce or unsubscribe in the activity log (null for a conversion, which is no interaction, and for a repeated event_id).',
    }),
    suppressed: z.boolean().meta({
      description: 'A bounce or unsubscribe: the address (or the contact) is suppressed now.',
    }),
    enrollments_stopped: z
      .number()
      .int()
      .meta({ description: 'Active sequence enrollments this event ended.' }),
    delivery_id: z.uuid().nullable().meta({
      description:
        'Reply and converted: the delivery the event is attributed to (the contact’s last one sent within CONVERSION_ATTRIBUTION_DAYS, that campaign’s when campaign_id is given); null: none.',
    }),
    duplicate: z.boolean().meta({ description: 'This event_id was recorded before: nothing was done.' }),
  }),
);

export const EXAMPLE_EVENT = {
  type: 'reply',
  email: 'ada@example.com',
  campaign_id: '0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f',
  occurred_at: '2026-11-22T10:20:00Z',
  payload: { subject: 'Re: Hello Ada', text: 'Thanks, let us talk next week.' },
};

export const EVENT_TYPES_TEXT = SEQUENCE_EVENT_TYPES.join(', ');

export function eventResultView(r: EventOutcome) {
  return {
    interaction_id: r.interactionId,
    suppressed: r.suppressed,
    enrollments_stopped: r.enrollmentsStopped,
    delivery_id: r.deliveryId,
    duplicate: r.duplicate,
  };
}
