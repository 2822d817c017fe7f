import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { EngagementRecorder } from '@herald/engagement';
import type { TenantPrincipal } from '@herald/tenants';
import type { DataSource } from 'typeorm';
import type { z } from 'zod';
import { IndexedZodPipe } from '../engine/engine-http';
import { TenantKey } from '../http/access';
import { ApiRoute } from '../http/openapi';
import {
  BULK_EVENTS_MAX,
  BULK_KINDS,
  bulkEventsBody,
  EXAMPLE_BULK_EVENTS,
} from './engagement-events.schemas';

/** Engagement events in bulk (issue 12): what a sender's own tracking or a provider export saw. */
@Controller('v1/engagement-events')
export class EngagementEventsController {
  constructor(
    private readonly recorder: EngagementRecorder,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiRoute({
    id: 'engagementEvents.create',
    tag: 'analytics',
    access: 'write',
    summary: 'Record engagement events in bulk',
    description: [
      `Up to ${BULK_EVENTS_MAX} events (${BULK_KINDS.join(', ')}) in one transaction, each counted in the analytics at once;`,
      'an `event_id` recorded before (from this route or POST /v1/events) is a no-op, so a retried request changes nothing.',
      'Kinds that must also act (bounced, complained, unsubscribed, replied) come through POST /v1/events or a provider webhook.',
      'A `delivery_id` not of this tenant is recorded unmatched (counted in `unmatched`, in no campaign).',
    ].join(' '),
    body: { schema: bulkEventsBody, example: EXAMPLE_BULK_EVENTS },
    success: {
      status: 200,
      description: 'What was recorded.',
      schema: 'BulkEventsResult',
      example: { recorded: 3, duplicates: 0, unmatched: 0 },
    },
  })
  async record(
    @TenantKey() principal: TenantPrincipal,
    @Body(new IndexedZodPipe(bulkEventsBody, 'body')) body: z.output<typeof bulkEventsBody>,
  ) {
    const recorded = await this.dataSource.transaction('READ COMMITTED', (manager) =>
      this.recorder.recordMany(
        manager,
        principal.tenantId,
        body.events.map((e) => ({
          kind: e.kind,
          source: 'api',
          sourceEventId: e.event_id,
          occurredAt: new Date(e.occurred_at),
          deliveryId: e.delivery_id ?? null,
          contactId: e.contact_id ?? null,
          machine: e.machine ?? false,
          url: e.url ?? null,
          value: e.value ?? null,
          currency: e.currency ?? null,
        })),
      ),
    );
    const asked = body.events.filter((e) => e.delivery_id !== undefined);
    const matched = new Set(recorded.filter((e) => e.deliveryId !== null).map((e) => e.sourceEventId));
    const recordedIds = new Set(recorded.map((e) => e.sourceEventId));
    return {
      recorded: recorded.length,
      duplicates: body.events.length - recorded.length,
      unmatched: asked.filter((e) => recordedIds.has(e.event_id) && !matched.has(e.event_id)).length,
    };
  }
}
