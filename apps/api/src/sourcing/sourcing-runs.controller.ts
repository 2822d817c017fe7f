import { Controller, Get, HttpCode, Param, Post, Query, UseFilters } from '@nestjs/common';
import { encodeCursor } from '@herald/persistence';
import { CandidateList, SourcingRunLifecycle } from '@herald/sourcing';
import type { TenantPrincipal } from '@herald/tenants';
import type { z } from 'zod';
import { TenantKey } from '../http/access';
import { ApiRoute } from '../http/openapi';
import { cursorPosition, IdPipe, notFound, ZodPipe } from '../http/validation.pipes';
import { SourcingErrorsFilter } from './sourcing-http';
import {
  candidateListQuery,
  candidateView,
  EXAMPLE_SOURCING_RUN,
  idParams,
  runListQuery,
  sourcingRunView,
} from './sourcing.schemas';

@Controller('v1/sourcing-runs')
@UseFilters(SourcingErrorsFilter)
export class SourcingRunsController {
  constructor(
    private readonly runs: SourcingRunLifecycle,
    private readonly candidates: CandidateList,
  ) {}

  @Get()
  @ApiRoute({
    id: 'sourcingRuns.list',
    tag: 'sourcing',
    access: 'read',
    summary: 'List sourcing runs',
    description: 'Newest first, in keyset pages; by job and/or status.',
    query: runListQuery,
    success: {
      status: 200,
      description: 'A page of runs.',
      schema: 'SourcingRunList',
      example: { data: [EXAMPLE_SOURCING_RUN], next_cursor: null },
    },
  })
  async list(
    @TenantKey() principal: TenantPrincipal,
    @Query(new ZodPipe(runListQuery, 'query')) query: z.output<typeof runListQuery>,
  ) {
    const limit = query.limit ?? 50;
    const rows = await this.runs.list(
      principal.tenantId,
      { jobId: query.job_id, status: query.status },
      cursorPosition(query.cursor),
      limit + 1,
    );
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      data: page.map(sourcingRunView),
      next_cursor: more && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
    };
  }

  @Get(':id')
  @ApiRoute({
    id: 'sourcingRuns.get',
    tag: 'sourcing',
    access: 'read',
    summary: 'Get a sourcing run and its progress',
    description: [
      'Status (queued → running → completed; paused, cancelled or failed) and progress: candidates per stage, discovered and duplicates, requests charged to the account’s quota, `rate_per_second` (candidates found over the last minute).',
      '`eta` is when the run should be done, the later of what the account’s quota windows allow its remaining requests and what its recent rate gives (`eta_reason` says which decides); `reason` says why it waits (quota, breaker, a paused account, a retry) and `error` what failed last. A run completes once its search is exhausted or its limit reached and no candidate is still being qualified.',
    ].join(' '),
    params: idParams,
    success: { status: 200, description: 'The run.', schema: 'SourcingRun', example: EXAMPLE_SOURCING_RUN },
  })
  async get(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('sourcing run')) id: string) {
    const run = await this.runs.find(principal.tenantId, id);
    if (!run) throw notFound('sourcing run', id);
    return sourcingRunView(run);
  }

  @Get(':id/candidates')
  @ApiRoute({
    id: 'sourcingRuns.candidates',
    tag: 'sourcing',
    access: 'read',
    summary: 'A sourcing run’s candidates',
    description:
      'In the order they were found, in keyset pages, by `stage` and/or `tier`. Each with its provenance (source account, source key, raw payload hash), its facts, and for a duplicate what it duplicates and by which rule.',
    params: idParams,
    query: candidateListQuery,
    success: {
      status: 200,
      description: 'A page of candidates.',
      schema: 'CandidateList',
      example: { data: [], next_cursor: null },
    },
  })
  async candidatesOf(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('sourcing run')) id: string,
    @Query(new ZodPipe(candidateListQuery, 'query')) query: z.output<typeof candidateListQuery>,
  ) {
    const run = await this.runs.find(principal.tenantId, id);
    if (!run) throw notFound('sourcing run', id);
    const limit = query.limit ?? 50;
    const rows = await this.candidates.page(
      principal.tenantId,
      id,
      { stage: query.stage, tier: query.tier },
      cursorPosition(query.cursor),
      limit + 1,
    );
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      data: page.map(candidateView),
      next_cursor: more && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
    };
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiRoute({
    id: 'sourcingRuns.pause',
    tag: 'sourcing',
    access: 'write',
    summary: 'Pause a sourcing run',
    description:
      'The search stops after the step in flight; nothing found is lost. Pausing a paused run is fine; a finished run is a 409.',
    params: idParams,
    success: {
      status: 200,
      description: 'The run.',
      schema: 'SourcingRun',
      example: { ...EXAMPLE_SOURCING_RUN, status: 'paused' },
    },
    problems: ['conflict'],
  })
  async pause(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('sourcing run')) id: string) {
    const run = await this.runs.pause(principal.tenantId, id);
    if (!run) throw notFound('sourcing run', id);
    return sourcingRunView(run);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiRoute({
    id: 'sourcingRuns.resume',
    tag: 'sourcing',
    access: 'write',
    summary: 'Resume a paused or failed sourcing run',
    description:
      'The search goes on from the run’s cursor: nothing already found is fetched or charged again. A completed or cancelled run is a 409.',
    params: idParams,
    success: { status: 200, description: 'The run.', schema: 'SourcingRun', example: EXAMPLE_SOURCING_RUN },
    problems: ['conflict'],
  })
  async resume(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('sourcing run')) id: string) {
    const run = await this.runs.resume(principal.tenantId, id);
    if (!run) throw notFound('sourcing run', id);
    return sourcingRunView(run);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiRoute({
    id: 'sourcingRuns.cancel',
    tag: 'sourcing',
    access: 'write',
    summary: 'Cancel a sourcing run',
    description:
      'The search stops for good; candidates found stay. Cancelling a cancelled run is fine; a completed run is a 409.',
    params: idParams,
    success: {
      status: 200,
      description: 'The run.',
      schema: 'SourcingRun',
      example: { ...EXAMPLE_SOURCING_RUN, status: 'cancelled' },
    },
    problems: ['conflict'],
  })
  async cancel(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('sourcing run')) id: string) {
    const run = await this.runs.cancel(principal.tenantId, id);
    if (!run) throw notFound('sourcing run', id);
    return sourcingRunView(run);
  }
}
