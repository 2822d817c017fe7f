import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import { RunLifecycle, RunPreview } from '@herald/campaigns';
import { OutboxRelay } from '@herald/deliveries';
import { encodeCursor } from '@herald/persistence';
import type { TenantPrincipal } from '@herald/tenants';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { TenantKey } from '../http/access';
import { IdempotencyService } from '../http/idempotency.service';
import { ApiRoute } from '../http/openapi';
import { cursorPosition, IdPipe, notFound, ZodPipe } from '../http/validation.pipes';
import { campaignIdParams } from './campaigns.schemas';
import { CampaignErrorsFilter } from './engine-http';
import {
  EXAMPLE_RECIPIENTS,
  EXAMPLE_RUN,
  noBody,
  recipientsQuery,
  recipientView,
  runIdParams,
  runStartedView,
  runView,
  startRunBody,
} from './runs.schemas';

@Controller('v1')
@UseFilters(CampaignErrorsFilter)
export class RunsController {
  constructor(
    private readonly runs: RunLifecycle,
    private readonly preview: RunPreview,
    private readonly outbox: OutboxRelay,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post('campaigns/:id/runs')
  @HttpCode(202)
  @ApiRoute({
    id: 'runs.start',
    tag: 'runs',
    access: 'write',
    summary: 'Start a run of a broadcast campaign',
    description: [
      'Accepts the run (202): the run and its fan-out job are written in one transaction, then the job is put on the queue. If the queue is unreachable the run is still accepted and its job is relayed once it is back: a 202 is never lost.',
      'Each active contact of the audience gets one delivery per run. One run of a campaign at a time (409 while another is queued or running); archived campaigns and other kinds than broadcast cannot be run by hand (409).',
      'A dry run sends nothing and writes no delivery: it completes at once with a `forecast` — the audience less contacts whose delivery key is already in the ledger, suppressed ones and those beyond the run cap; then the sender account’s quota windows as they stand (skip policy: only what fits now; defer: spread over the following windows) and the send window: deliveries per day, when the last one goes, and a summary. Page through who would receive what with GET /v1/runs/{id}/recipients.',
    ].join(' '),
    params: campaignIdParams,
    body: { schema: startRunBody, example: { dry_run: false } },
    idempotent: true,
    success: {
      status: 202,
      description: 'The run, accepted. Follow it with GET /v1/runs/{id}.',
      schema: 'RunStarted',
      example: { id: EXAMPLE_RUN.id, status: 'queued', dry_run: false },
    },
    problems: ['conflict'],
  })
  async start(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('campaign')) id: string,
    @Body(new ZodPipe(startRunBody, 'body')) body: z.output<typeof startRunBody>,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const started = await this.idempotency.run(req, res, principal.tenantId, async (manager) => {
      const run = await this.runs.start(manager, principal.tenantId, id, { dryRun: body?.dry_run === true });
      if (!run) throw notFound('campaign', id);
      return { status: 202, body: runStartedView(run) };
    });
    // After commit. A replay relays too: its job may still sit in the outbox.
    if (!started.dry_run)
      await this.outbox.dispatchJob('runs.fanout', { tenant_id: principal.tenantId, run_id: started.id });
    return started;
  }

  @Get('runs/:id')
  @ApiRoute({
    id: 'runs.get',
    tag: 'runs',
    access: 'read',
    summary: 'Get a run and its progress',
    description: [
      'Status (queued → running → completed, or cancelled) and the run’s deliveries counted by status from the ledger. A run completes once its fan-out is done and none of its deliveries waits (one held as `unknown` for an operator does not hold the run).',
      '`progress` is done (sent, failed, skipped, cancelled, unknown) over targeted; `rate_per_second` the sends of the last minute; `eta` when the last waiting delivery should go out, accounting for the sender account’s quota windows (`eta_reason` says whether the quota or the rate decides). A dry run carries its `forecast`.',
    ].join(' '),
    params: runIdParams,
    success: { status: 200, description: 'The run.', schema: 'Run', example: EXAMPLE_RUN },
  })
  async get(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('run')) id: string) {
    const run = await this.runs.find(principal.tenantId, id);
    if (!run) throw notFound('run', id);
    return runView(run);
  }

  @Get('runs/:id/recipients')
  @ApiRoute({
    id: 'runs.recipients',
    tag: 'runs',
    access: 'read',
    summary: 'Who a dry run would reach, and when',
    description:
      'Pages of the contacts a dry run forecast, in the order a real run would reach them: each with the delivery key it would get, its subject rendered as the pipeline renders it (`render_error` when it cannot be: the real run would fail that delivery), and its `due_at` from the forecast’s quota windows. Computed from the audience page by page, never stored. A real run is a 409 (its deliveries are in the ledger).',
    params: runIdParams,
    query: recipientsQuery,
    success: {
      status: 200,
      description: 'A page of recipients.',
      schema: 'RunRecipientPage',
      example: EXAMPLE_RECIPIENTS,
    },
    problems: ['conflict'],
  })
  async recipients(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('run')) id: string,
    @Query(new ZodPipe(recipientsQuery, 'query')) query: z.output<typeof recipientsQuery>,
  ) {
    // The cursor is a keyset position whose timestamp field carries the position in send order.
    const at = cursorPosition(query.cursor);
    const page = await this.preview.recipients(
      principal.tenantId,
      id,
      at ? { afterId: at.id, index: at.createdAt.getTime() } : null,
      query.limit ?? 50,
    );
    if (!page) throw notFound('run', id);
    return {
      data: page.data.map(recipientView),
      next_cursor: page.next
        ? encodeCursor({ createdAt: new Date(page.next.index), id: page.next.afterId })
        : null,
    };
  }

  @Post('runs/:id/cancel')
  @HttpCode(200)
  @ApiRoute({
    id: 'runs.cancel',
    tag: 'runs',
    access: 'write',
    summary: 'Cancel a run',
    description:
      'Stops the fan-out and cancels the run’s pending and deferred deliveries (one being sent at this moment finishes). Cancelling a cancelled run is fine; a completed run is a 409. No body (or `{}`).',
    params: runIdParams,
    success: {
      status: 200,
      description: 'The cancelled run.',
      schema: 'Run',
      example: { ...EXAMPLE_RUN, status: 'cancelled', finished_at: '2026-11-22T10:21:00.000Z' },
    },
    problems: ['conflict', 'unsupported-media-type', 'payload-too-large'],
  })
  async cancel(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('run')) id: string,
    @Body(new ZodPipe(noBody, 'body')) _body: z.output<typeof noBody>,
  ) {
    const run = await this.runs.cancel(principal.tenantId, id);
    if (!run) throw notFound('run', id);
    return runView(run);
  }
}
