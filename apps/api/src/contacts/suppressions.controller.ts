import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { SuppressionExistsError, SuppressionsRepository, type SuppressionFilter } from '@herald/contacts';
import { keysetPage } from '@herald/persistence';
import type { TenantPrincipal } from '@herald/tenants';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { TenantKey } from '../http/access';
import { IdempotencyService } from '../http/idempotency.service';
import { ApiRoute } from '../http/openapi';
import { cursorPosition, IdPipe, notFound, ZodPipe } from '../http/validation.pipes';
import {
  createSuppressionBody,
  EXAMPLE_SUPPRESSION,
  suppressionIdParams,
  suppressionListQuery,
  suppressionView,
} from './contacts.schemas';

@Controller('v1/suppressions')
export class SuppressionsController {
  constructor(
    private readonly suppressions: SuppressionsRepository,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @ApiRoute({
    id: 'suppressions.create',
    tag: 'suppressions',
    access: 'write',
    summary: 'Suppress an email address or a contact',
    description:
      'Herald never sends to a suppressed address or contact. Give exactly one of email or contact_id. Suppressing what is already suppressed answers 200 with the existing suppression.',
    body: { schema: createSuppressionBody, example: { email: 'ada@example.com', reason: 'unsubscribe' } },
    idempotent: true,
    success: {
      status: 201,
      description: 'The new suppression (200 when it already existed).',
      schema: 'Suppression',
      example: EXAMPLE_SUPPRESSION,
    },
    problems: ['not-found'],
  })
  create(
    @TenantKey() principal: TenantPrincipal,
    @Body(new ZodPipe(createSuppressionBody, 'body')) body: z.output<typeof createSuppressionBody>,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.idempotency.run(req, res, principal.tenantId, async (manager) => {
      try {
        const created = await this.suppressions.create(manager, principal.tenantId, {
          email: body.email ?? null,
          contactId: body.contact_id?.toLowerCase() ?? null,
          reason: body.reason,
          note: body.note || null,
        });
        return { status: 201, body: suppressionView(created) };
      } catch (error) {
        if (!(error instanceof SuppressionExistsError)) throw error;
        const existing = await this.suppressions.findById(principal.tenantId, error.existingId);
        if (!existing) throw error;
        return { status: 200, body: suppressionView(existing) };
      }
    });
  }

  @Get()
  @ApiRoute({
    id: 'suppressions.list',
    tag: 'suppressions',
    access: 'read',
    summary: 'List suppressions',
    description: 'Oldest first, in keyset pages.',
    query: suppressionListQuery,
    success: {
      status: 200,
      description: 'A page of suppressions.',
      schema: 'SuppressionList',
      example: { data: [EXAMPLE_SUPPRESSION], next_cursor: null },
    },
  })
  async list(
    @TenantKey() principal: TenantPrincipal,
    @Query(new ZodPipe(suppressionListQuery, 'query')) query: z.output<typeof suppressionListQuery>,
  ) {
    const filter: SuppressionFilter = {};
    if (query.email) filter.email = query.email;
    if (query.contact_id) filter.contactId = query.contact_id.toLowerCase();
    if (query.reason) filter.reason = query.reason;
    const limit = query.limit ?? 50;
    const rows = await this.suppressions.page(
      principal.tenantId,
      filter,
      cursorPosition(query.cursor),
      limit + 1,
    );
    const page = keysetPage(rows, limit);
    return { data: page.rows.map(suppressionView), next_cursor: page.nextCursor };
  }

  @Get(':id')
  @ApiRoute({
    id: 'suppressions.get',
    tag: 'suppressions',
    access: 'read',
    summary: 'Get a suppression',
    description: 'One suppression by id.',
    params: suppressionIdParams,
    success: {
      status: 200,
      description: 'The suppression.',
      schema: 'Suppression',
      example: EXAMPLE_SUPPRESSION,
    },
  })
  async get(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('suppression')) id: string) {
    const found = await this.suppressions.findById(principal.tenantId, id);
    if (!found) throw notFound('suppression', id);
    return suppressionView(found);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiRoute({
    id: 'suppressions.delete',
    tag: 'suppressions',
    access: 'write',
    summary: 'Lift a suppression',
    description: 'Herald may send to the address or contact again.',
    params: suppressionIdParams,
    success: { status: 204, description: 'Deleted.' },
  })
  async delete(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('suppression')) id: string,
  ): Promise<void> {
    if (!(await this.suppressions.delete(principal.tenantId, id))) throw notFound('suppression', id);
  }
}
