import { Body, Controller, Get, Post, Query, Req, Res } from '@nestjs/common';
import { InteractionsRepository, type InteractionFilter } from '@herald/contacts';
import { keysetPage } from '@herald/persistence';
import type { TenantPrincipal } from '@herald/tenants';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { TenantKey } from '../http/access';
import { IdempotencyService } from '../http/idempotency.service';
import { ApiRoute } from '../http/openapi';
import { cursorPosition, ZodPipe } from '../http/validation.pipes';
import {
  createNoteBody,
  EXAMPLE_INTERACTION,
  interactionListQuery,
  interactionView,
} from './contacts.schemas';

@Controller('v1/interactions')
export class InteractionsController {
  constructor(
    private readonly interactions: InteractionsRepository,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Get()
  @ApiRoute({
    id: 'interactions.list',
    tag: 'interactions',
    access: 'read',
    summary: 'List interactions',
    description:
      'The activity log (deliveries, replies, bounces, unsubscribes, notes), newest first, in keyset pages.',
    query: interactionListQuery,
    success: {
      status: 200,
      description: 'A page of interactions.',
      schema: 'InteractionList',
      example: { data: [EXAMPLE_INTERACTION], next_cursor: null },
    },
  })
  async list(
    @TenantKey() principal: TenantPrincipal,
    @Query(new ZodPipe(interactionListQuery, 'query')) query: z.output<typeof interactionListQuery>,
  ) {
    const filter: InteractionFilter = {};
    if (query.contact_id) filter.contactId = query.contact_id.toLowerCase();
    if (query.type) filter.type = query.type;
    if (query.from) filter.from = new Date(query.from);
    if (query.to) filter.to = new Date(query.to);
    const limit = query.limit ?? 50;
    const rows = await this.interactions.page(
      principal.tenantId,
      filter,
      cursorPosition(query.cursor),
      limit + 1,
    );
    const page = keysetPage(rows, limit);
    return { data: page.rows.map(interactionView), next_cursor: page.nextCursor };
  }

  @Post()
  @ApiRoute({
    id: 'interactions.create',
    tag: 'interactions',
    access: 'write',
    summary: 'Add a note to a contact’s activity',
    description:
      'Only notes are written through the API; deliveries, replies, bounces and unsubscribes are recorded by Herald itself.',
    body: {
      schema: createNoteBody,
      example: {
        contact_id: EXAMPLE_INTERACTION.contact_id,
        type: 'note',
        payload: { text: 'Met at the conference.' },
      },
    },
    idempotent: true,
    success: {
      status: 201,
      description: 'The interaction.',
      schema: 'Interaction',
      example: EXAMPLE_INTERACTION,
    },
    problems: ['not-found'],
  })
  create(
    @TenantKey() principal: TenantPrincipal,
    @Body(new ZodPipe(createNoteBody, 'body')) body: z.output<typeof createNoteBody>,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.idempotency.run(req, res, principal.tenantId, async (manager) => ({
      status: 201,
      body: interactionView(
        await this.interactions.record(manager, principal.tenantId, {
          contactId: body.contact_id.toLowerCase(),
          type: body.type,
          payload: body.payload,
        }),
      ),
    }));
  }
}
