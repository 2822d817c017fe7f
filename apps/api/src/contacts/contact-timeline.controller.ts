import { Controller, Get, Param, Query } from '@nestjs/common';
import { keysetPage } from '@herald/persistence';
import type { TenantPrincipal } from '@herald/tenants';
import { z } from 'zod';
import { TenantKey } from '../http/access';
import { ApiRoute, named } from '../http/openapi';
import { cursorPosition, IdPipe, notFound, ZodPipe } from '../http/validation.pipes';
import { pageQuery } from '../tenants/tenants.schemas';
import { contactIdParams } from './contacts.schemas';
import { ContactTimelineRepository, type TimelineRow } from './contact-timeline.repository';

const iso = z.string().meta({ format: 'date-time' });

const TimelineEntrySchema = named(
  'ContactTimelineEntry',
  z.object({
    kind: z.enum(['delivery', 'interaction']),
    id: z.uuid(),
    at: iso.meta({ description: 'When the delivery was planned or the interaction recorded.' }),
    delivery: z
      .object({
        status: z.string().meta({
          description: 'pending, sending, sent, failed, skipped, deferred, cancelled or unknown.',
        }),
        reason: z.string().nullable().meta({
          description:
            'Why it failed, was skipped or deferred (e.g. "suppressed", a quota window), or what a crash left unknown.',
        }),
        campaign_id: z.uuid(),
        run_id: z.uuid().nullable(),
        step: z.number().int(),
        channel: z.string(),
        attempts: z.number().int(),
        due_at: iso.meta({
          description: 'When it is next tried (for a deferred delivery: when the quota resets).',
        }),
        sent_at: iso.nullable(),
        updated_at: iso,
      })
      .nullable(),
    interaction: z
      .object({
        type: z
          .string()
          .meta({ description: 'delivery_sent, delivery_failed, reply, bounce, unsubscribe or note.' }),
        payload: z.record(z.string(), z.unknown()),
      })
      .nullable(),
  }),
);

named(
  'ContactTimeline',
  z.object({ data: z.array(TimelineEntrySchema), next_cursor: z.string().nullable() }),
);

const EXAMPLE_ENTRY = {
  kind: 'delivery',
  id: '0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f',
  at: '2026-11-22T10:00:00.000Z',
  delivery: {
    status: 'deferred',
    reason: 'quota: daily window full',
    campaign_id: '0190f5e4-9999-7c3d-8e4f-5a6b7c8d9e0f',
    run_id: '0190f5e4-aaaa-7c3d-8e4f-5a6b7c8d9e0f',
    step: 0,
    channel: 'smtp',
    attempts: 0,
    due_at: '2026-11-23T00:00:00.000Z',
    sent_at: null,
    updated_at: '2026-11-22T10:00:01.000Z',
  },
  interaction: null,
};

/** `GET /v1/contacts/:id/timeline`: what happened to one contact, and why a message did not go. */
@Controller('v1/contacts/:id/timeline')
export class ContactTimelineController {
  constructor(private readonly timeline: ContactTimelineRepository) {}

  @Get()
  @ApiRoute({
    id: 'contacts.timeline',
    tag: 'contacts',
    access: 'read',
    summary: 'A contact’s timeline',
    description:
      'The contact’s deliveries (with status and the reason one failed, was skipped or deferred) and interactions, newest first, in one list.',
    params: contactIdParams,
    query: pageQuery,
    success: {
      status: 200,
      description: 'A page of the timeline.',
      schema: 'ContactTimeline',
      example: { data: [EXAMPLE_ENTRY], next_cursor: null },
    },
  })
  async list(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('contact')) id: string,
    @Query(new ZodPipe(pageQuery, 'query')) query: z.output<typeof pageQuery>,
  ) {
    if (!(await this.timeline.contactExists(principal.tenantId, id))) throw notFound('contact', id);
    const limit = query.limit ?? 50;
    const rows = await this.timeline.page(principal.tenantId, id, cursorPosition(query.cursor), limit + 1);
    const page = keysetPage(rows, limit);
    return { data: page.rows.map(entryView), next_cursor: page.nextCursor };
  }
}

function entryView(row: TimelineRow) {
  const date = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    kind: row.kind,
    id: row.id,
    at: row.createdAt.toISOString(),
    delivery:
      row.kind === 'delivery'
        ? {
            status: row.what,
            reason: row.reason,
            campaign_id: row.campaignId,
            run_id: row.runId,
            step: row.step,
            channel: row.channel,
            attempts: row.attempts,
            due_at: date(row.dueAt),
            sent_at: date(row.sentAt),
            updated_at: date(row.updatedAt),
          }
        : null,
    interaction: row.kind === 'interaction' ? { type: row.what, payload: row.payload ?? {} } : null,
  };
}
