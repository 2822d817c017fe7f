import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
} from '@nestjs/common';
import { keysetPage } from '@herald/persistence';
import { EnrollmentsRepository } from '@herald/sequences';
import type { TenantPrincipal } from '@herald/tenants';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { TenantKey } from '../http/access';
import { IdempotencyService } from '../http/idempotency.service';
import { ApiRoute } from '../http/openapi';
import { ProblemException } from '../http/problem';
import { cursorPosition, IdPipe, notFound, ZodPipe } from '../http/validation.pipes';
import { campaignIdParams } from './campaigns.schemas';
import {
  enrollBody,
  enrollmentListQuery,
  enrollmentParams,
  enrollmentView,
  enrollResultView,
  EXAMPLE_ENROLLMENT,
} from './enrollments.schemas';
import { CampaignErrorsFilter, IndexedZodPipe } from './engine-http';

@Controller('v1/campaigns/:id/enrollments')
@UseFilters(CampaignErrorsFilter)
export class EnrollmentsController {
  constructor(
    private readonly enrollments: EnrollmentsRepository,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiRoute({
    id: 'enrollments.create',
    tag: 'sequences',
    access: 'write',
    summary: 'Enroll contacts in a sequence',
    description: [
      'Give `contact_ids` (up to 1000) or a `filter` (the contact list’s filters, as a campaign audience: tags, created_after, created_before, q), not both. Only active contacts are enrolled; a filter enrolls every match at once, however many.',
      'Each contact goes through the steps in order: the first after its `delay` from now, each next one `delay` seconds after the previous one was sent. A reply, bounce or unsubscribe (POST /v1/events) stops it.',
      'A contact is enrolled in a campaign once: enrolling it again changes nothing (`already_enrolled`). Only sequence campaigns that are not archived take enrollments (409); a paused one keeps them waiting.',
    ].join(' '),
    params: campaignIdParams,
    body: {
      schema: enrollBody,
      example: { contact_ids: ['0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f'] },
    },
    idempotent: true,
    success: {
      status: 200,
      description: 'What was enrolled.',
      schema: 'EnrollmentResult',
      example: { enrolled: 1, already_enrolled: 0, not_found: [] },
    },
    problems: ['conflict'],
  })
  enroll(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('campaign')) id: string,
    @Body(new IndexedZodPipe(enrollBody, 'body')) body: z.output<typeof enrollBody>,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.idempotency.run(req, res, principal.tenantId, async (manager) => {
      const result = await this.enrollments.enroll(
        manager,
        principal.tenantId,
        id,
        body.contact_ids ? { contactIds: body.contact_ids } : { filter: body.filter ?? {} },
      );
      if (!result) throw notFound('campaign', id);
      return { status: 200, body: enrollResultView(result) };
    });
  }

  @Get()
  @ApiRoute({
    id: 'enrollments.list',
    tag: 'sequences',
    access: 'read',
    summary: 'List a sequence’s enrollments',
    description: 'Keyset pages in enrollment order (oldest first), optionally of one status.',
    params: campaignIdParams,
    query: enrollmentListQuery,
    success: {
      status: 200,
      description: 'A page of enrollments.',
      schema: 'EnrollmentList',
      example: { data: [EXAMPLE_ENROLLMENT], next_cursor: null },
    },
  })
  async list(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('campaign')) id: string,
    @Query(new ZodPipe(enrollmentListQuery, 'query')) query: z.output<typeof enrollmentListQuery>,
  ) {
    const limit = query.limit ?? 50;
    const rows = await this.enrollments.page(
      principal.tenantId,
      id,
      query.status ? { status: query.status } : {},
      cursorPosition(query.cursor),
      limit + 1,
    );
    if (!rows) throw notFound('campaign', id);
    const page = keysetPage(rows, limit);
    return { data: page.rows.map(enrollmentView), next_cursor: page.nextCursor };
  }

  @Delete(':contact_id')
  @HttpCode(204)
  @ApiRoute({
    id: 'enrollments.remove',
    tag: 'sequences',
    access: 'write',
    summary: 'Take a contact out of a sequence',
    description:
      'The enrollment stops (`stop_reason` removed) and the steps it still had waiting are cancelled; a step being sent at this moment finishes. A finished enrollment stays as it is (204). 404 when the contact is not enrolled.',
    params: enrollmentParams,
    success: { status: 204, description: 'Removed.' },
  })
  async remove(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('campaign')) id: string,
    @Param('contact_id', new IdPipe('contact')) contactId: string,
  ): Promise<void> {
    const outcome = await this.enrollments.remove(principal.tenantId, id, contactId);
    switch (outcome) {
      case 'removed':
      case 'already-finished':
        return;
      case 'no-campaign':
        throw notFound('campaign', id);
      case 'not-enrolled':
        throw ProblemException.of(
          'not-found',
          `Contact ${JSON.stringify(contactId)} is not enrolled in this campaign.`,
          [{ field: 'contact_id', message: 'names no contact enrolled in this campaign' }],
        );
    }
  }
}
