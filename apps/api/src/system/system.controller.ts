import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SystemPingsRepository } from '@herald/persistence';
import { JobProducer } from '@herald/queues';
import { RequestContext } from '@herald/telemetry';
import { randomUUID } from 'node:crypto';
import { AdminKeyGuard } from '../http/admin-key.guard';

interface PingView {
  id: string;
  request_id: string;
  status: 'queued' | 'processed';
  processed_by: string | null;
  job_id: string | null;
  created_at: string;
  processed_at: string | null;
}

/** A round trip api → Redis → worker → Postgres, for operators and the end-to-end tests. */
@ApiTags('system')
@ApiBearerAuth()
@UseGuards(AdminKeyGuard)
@Controller('v1/system/pings')
export class SystemController {
  constructor(
    private readonly pings: SystemPingsRepository,
    private readonly producer: JobProducer,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Enqueue a system.ping job; a worker marks it processed in Postgres.' })
  @ApiBody({
    required: false,
    schema: {
      type: 'object',
      properties: { hold_ms: { type: 'integer', minimum: 0, maximum: 60000, example: 0 } },
      additionalProperties: false,
    },
  })
  async create(@Body() body: unknown): Promise<PingView> {
    const holdMs = parseHoldMs(body);
    const id = randomUUID();
    const ping = await this.pings.create(id, RequestContext.current().request_id ?? '');
    await this.producer.enqueue('system.ping', { ping_id: id, hold_ms: holdMs });
    return view(ping);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Where a ping is: queued, or processed by which worker and job.' })
  async get(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string): Promise<PingView> {
    const ping = await this.pings.findById(id);
    if (!ping) throw new NotFoundException(`No ping ${id}`);
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

/** The body is optional: `{}` or `{ "hold_ms": 0..60000 }`, nothing else. */
function parseHoldMs(body: unknown): number {
  if (body === undefined || body === null) return 0;
  const fields =
    typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  const unknown = fields ? Object.keys(fields).filter((k) => k !== 'hold_ms') : [];
  const hold = fields?.hold_ms ?? 0;
  if (
    !fields ||
    unknown.length > 0 ||
    typeof hold !== 'number' ||
    !Number.isInteger(hold) ||
    hold < 0 ||
    hold > 60_000
  ) {
    throw new BadRequestException({
      message: 'Invalid ping request',
      errors: !fields
        ? [{ field: '', message: 'must be a JSON object' }]
        : unknown.length > 0
          ? unknown.map((field) => ({ field, message: 'is not a known field' }))
          : [{ field: 'hold_ms', message: 'must be an integer from 0 to 60000' }],
    });
  }
  return hold;
}
