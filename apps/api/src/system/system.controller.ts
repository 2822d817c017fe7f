import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { SystemPingsRepository } from '@herald/persistence';
import { JobProducer } from '@herald/queues';
import { RequestContext } from '@herald/telemetry';
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { ApiRoute } from '../http/openapi';
import { IdPipe, notFound, ZodPipe } from '../http/validation.pipes';
import { createPingBody, EXAMPLE_PING, pingParams, type PingView } from './system.schemas';

/** A round trip api → Redis → worker → Postgres, for operators and the end-to-end tests. */
@Controller('v1/system/pings')
export class SystemController {
  constructor(
    private readonly pings: SystemPingsRepository,
    private readonly producer: JobProducer,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiRoute({
    id: 'system.pings.create',
    tag: 'system',
    access: 'platform',
    summary: 'Send a ping across the fleet',
    description:
      'Enqueues a system.ping job; a worker marks the ping processed in Postgres. The request id travels with the job into the worker’s logs.',
    body: { schema: createPingBody, example: { hold_ms: 0 } },
    success: { status: 202, description: 'The ping, queued.', schema: 'SystemPing', example: EXAMPLE_PING },
  })
  async create(
    @Body(new ZodPipe(createPingBody, 'body')) body: z.output<typeof createPingBody>,
  ): Promise<PingView> {
    const id = randomUUID();
    const ping = await this.pings.create(id, RequestContext.current().request_id ?? '');
    await this.producer.enqueue('system.ping', { ping_id: id, hold_ms: body?.hold_ms ?? 0 });
    return view(ping);
  }

  @Get(':id')
  @ApiRoute({
    id: 'system.pings.get',
    tag: 'system',
    access: 'platform',
    summary: 'Where a ping is',
    description: 'Queued, or processed by which worker and job.',
    params: pingParams,
    success: { status: 200, description: 'The ping.', schema: 'SystemPing', example: EXAMPLE_PING },
  })
  async get(@Param('id', new IdPipe('ping')) id: string): Promise<PingView> {
    const ping = await this.pings.findById(id);
    if (!ping) throw notFound('ping', id);
    return view(ping);
  }
}

function view(p: {
  id: string;
  requestId: string;
  processedBy: string | null;
  jobId: string | null;
  createdAt: Date;
  processedAt: Date | null;
}): PingView {
  return {
    id: p.id,
    request_id: p.requestId,
    status: p.processedAt ? 'processed' : 'queued',
    processed_by: p.processedBy,
    job_id: p.jobId,
    created_at: p.createdAt.toISOString(),
    processed_at: p.processedAt?.toISOString() ?? null,
  };
}
