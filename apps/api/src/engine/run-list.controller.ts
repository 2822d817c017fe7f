import { Controller, Get, Query } from '@nestjs/common';
import { RunList } from '@herald/campaigns';
import { keysetPage } from '@herald/persistence';
import type { TenantPrincipal } from '@herald/tenants';
import type { z } from 'zod';
import { TenantKey } from '../http/access';
import { ApiRoute } from '../http/openapi';
import { cursorPosition, ZodPipe } from '../http/validation.pipes';
import { EXAMPLE_RUN_LIST, runListQuery } from './run-list.schemas';
import { runView } from './runs.schemas';

@Controller('v1/runs')
export class RunListController {
  constructor(private readonly runs: RunList) {}

  @Get()
  @ApiRoute({
    id: 'runs.list',
    tag: 'runs',
    access: 'read',
    summary: 'List runs',
    description:
      'The tenant’s runs, newest first, in keyset pages of at most 100, optionally only one status (`running` for the runs in flight) or one campaign. Each run is the same document as GET /v1/runs/{id}: counts from the ledger, rate and quota-aware ETA.',
    query: runListQuery,
    success: { status: 200, description: 'A page of runs.', schema: 'RunList', example: EXAMPLE_RUN_LIST },
  })
  async list(
    @TenantKey() principal: TenantPrincipal,
    @Query(new ZodPipe(runListQuery, 'query')) query: z.output<typeof runListQuery>,
  ) {
    const limit = query.limit ?? 20;
    const rows = await this.runs.page(
      principal.tenantId,
      {
        ...(query.status ? { status: query.status } : {}),
        ...(query.campaign_id ? { campaignId: query.campaign_id } : {}),
      },
      cursorPosition(query.cursor),
      limit + 1,
    );
    const page = keysetPage(rows, limit);
    return { data: page.rows.map(runView), next_cursor: page.nextCursor };
  }
}
