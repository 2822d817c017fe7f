import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
} from '@nestjs/common';
import { CampaignsRepository, type CampaignCreateInput, type CampaignPatchInput } from '@herald/campaigns';
import type { TenantPrincipal } from '@herald/tenants';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { TenantKey } from '../http/access';
import { IdempotencyService } from '../http/idempotency.service';
import { ApiRoute } from '../http/openapi';
import { found, listAnswer } from '../http/resource-answers';
import { IdPipe, notFound, ZodPipe } from '../http/validation.pipes';
import {
  campaignBody,
  campaignIdParams,
  campaignListQuery,
  campaignPatchBody,
  campaignView,
  EXAMPLE_CAMPAIGN,
  EXAMPLE_CAMPAIGN_INPUT,
} from './campaigns.schemas';
import { CampaignErrorsFilter, IndexedZodPipe } from './engine-http';

@Controller('v1/campaigns')
@UseFilters(CampaignErrorsFilter)
export class CampaignsController {
  constructor(
    private readonly campaigns: CampaignsRepository,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @ApiRoute({
    id: 'campaigns.create',
    tag: 'campaigns',
    access: 'write',
    summary: 'Create a campaign',
    description: [
      'What to send (steps: templates such as `Hello {{ first_name | "there" }}`, checked here: errors name `steps[i].body`), to whom (`audience`, the contact list’s filters; only active contacts are reached), through which of the tenant’s sender accounts (404 naming `sender_account_id` otherwise), and within which limits.',
      'A broadcast or birthday campaign has exactly one step; sequence steps may wait (`delay`, seconds). A `schedule` (broadcast, birthday) starts a run every day at its local time; a `send_window` holds deliveries until it opens.',
    ].join(' '),
    body: { schema: campaignBody, example: EXAMPLE_CAMPAIGN_INPUT },
    idempotent: true,
    success: { status: 201, description: 'The new campaign.', schema: 'Campaign', example: EXAMPLE_CAMPAIGN },
    problems: ['not-found'],
  })
  create(
    @TenantKey() principal: TenantPrincipal,
    @Body(new IndexedZodPipe(campaignBody, 'body')) body: CampaignCreateInput,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.idempotency.run(req, res, principal.tenantId, async (manager) => ({
      status: 201,
      body: campaignView(await this.campaigns.create(manager, principal.tenantId, body)),
    }));
  }

  @Get()
  @ApiRoute({
    id: 'campaigns.list',
    tag: 'campaigns',
    access: 'read',
    summary: 'List campaigns',
    description:
      'Keyset pages in creation order (oldest first). Archived campaigns only when asked for by status.',
    query: campaignListQuery,
    success: {
      status: 200,
      description: 'A page of campaigns.',
      schema: 'CampaignList',
      example: { data: [EXAMPLE_CAMPAIGN], next_cursor: null },
    },
  })
  async list(
    @TenantKey() principal: TenantPrincipal,
    @Query(new ZodPipe(campaignListQuery, 'query')) query: z.output<typeof campaignListQuery>,
  ) {
    const filter = {
      ...(query.kind ? { kind: query.kind } : {}),
      ...(query.status ? { status: query.status } : {}),
    };
    return listAnswer(
      query,
      (after, limit) => this.campaigns.page(principal.tenantId, filter, after, limit),
      campaignView,
    );
  }

  @Get(':id')
  @ApiRoute({
    id: 'campaigns.get',
    tag: 'campaigns',
    access: 'read',
    summary: 'Get a campaign',
    description: 'Archived campaigns are still returned (status archived).',
    params: campaignIdParams,
    success: { status: 200, description: 'The campaign.', schema: 'Campaign', example: EXAMPLE_CAMPAIGN },
  })
  async get(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('campaign')) id: string) {
    return campaignView(found(await this.campaigns.find(principal.tenantId, id), 'campaign', id));
  }

  @Patch(':id')
  @ApiRoute({
    id: 'campaigns.update',
    tag: 'campaigns',
    access: 'write',
    summary: 'Change a campaign',
    description:
      'Changes only the fields given; null clears audience, schedule, send_window or run_cap. The kind never changes. `status` pauses (deliveries wait) or resumes a campaign, and restores an archived one. Runs already started use the steps as they are when each message is sent.',
    params: campaignIdParams,
    body: {
      schema: campaignPatchBody,
      example: { name: 'November newsletter (final)', status: 'paused', run_cap: null },
    },
    success: {
      status: 200,
      description: 'The changed campaign.',
      schema: 'Campaign',
      example: { ...EXAMPLE_CAMPAIGN, name: 'November newsletter (final)', status: 'paused', run_cap: null },
    },
  })
  async update(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('campaign')) id: string,
    @Body(new IndexedZodPipe(campaignPatchBody, 'body')) body: CampaignPatchInput,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.idempotency.run(req, res, principal.tenantId, async (manager) => {
      const campaign = await this.campaigns.patch(manager, principal.tenantId, id, body);
      return { status: 200, body: campaignView(found(campaign, 'campaign', id)) };
    });
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiRoute({
    id: 'campaigns.archive',
    tag: 'campaigns',
    access: 'write',
    summary: 'Archive a campaign',
    description:
      'Soft delete: the campaign gets status archived, its queued or running runs are cancelled and nothing more is sent for it; its runs and deliveries stay readable. Archiving twice is fine; PATCH status back to active to restore it.',
    params: campaignIdParams,
    success: { status: 204, description: 'Archived.' },
  })
  async archive(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('campaign')) id: string,
  ): Promise<void> {
    if (!(await this.campaigns.archive(principal.tenantId, id))) throw notFound('campaign', id);
  }
}
