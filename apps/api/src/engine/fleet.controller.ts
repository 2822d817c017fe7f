import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { HeartbeatReader, JobProducer, QUEUE_NAMES, type QueueName } from '@herald/queues';
import { z } from 'zod';
import { ApiRoute, named } from '../http/openapi';
import { notFound, ZodPipe } from '../http/validation.pipes';
import { queueNameParams } from './admin.schemas';
import { limitParam } from '../tenants/tenants.schemas';
import { withRedis } from './engine-http';

const iso = z.string().meta({ format: 'date-time' });

named(
  'FleetWorkers',
  z.object({
    data: z.array(
      z.object({
        id: z.string(),
        host: z.string(),
        pid: z.number().int(),
        version: z.string(),
        queues: z.array(z.string()),
        concurrency: z.record(z.string(), z.number().int()),
        started_at: iso,
        last_seen_at: iso,
      }),
    ),
    max_age_ms: z
      .number()
      .int()
      .meta({ description: 'A worker silent for longer is gone (WORKER_HEARTBEAT_MAX_AGE_MS).' }),
  }),
);

named(
  'FailedJobs',
  z.object({
    queue: z.enum(QUEUE_NAMES),
    total: z
      .number()
      .int()
      .meta({ description: 'Failed jobs in the queue (the list shows the newest `limit`).' }),
    data: z.array(
      z.object({
        id: z.string().nullable(),
        name: z.string(),
        failed_reason: z.string().nullable(),
        attempts_made: z.number().int(),
        created_at: iso.nullable(),
        failed_at: iso.nullable(),
      }),
    ),
  }),
);

const failedQuery = z.strictObject({
  limit: limitParam(100, 'How many of the newest failed jobs, 1 to 100 (default 20).', '20'),
});

/**
 * The platform's view of the fleet the console shows next to queue depths and circuits: the
 * live workers (their heartbeats) and each queue's failed jobs (ids, names and errors; never
 * their payloads, which hold tenants' data).
 */
@Controller('v1/admin')
export class FleetController {
  constructor(
    private readonly heartbeats: HeartbeatReader,
    private readonly producer: JobProducer,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
  ) {}

  @Get('workers')
  @ApiRoute({
    id: 'admin.workers',
    tag: 'admin',
    access: 'platform',
    summary: 'Live workers',
    description:
      'Every worker whose heartbeat is recent (within WORKER_HEARTBEAT_MAX_AGE_MS): host, pid, version, queues and concurrency, when it started and was last seen. 503 while Redis is unreachable.',
    success: {
      status: 200,
      description: 'The live workers.',
      schema: 'FleetWorkers',
      example: {
        data: [
          {
            id: 'worker-7f9c-4242-a1b2c3',
            host: 'worker-7f9c',
            pid: 4242,
            version: '0.1.0',
            queues: ['system', 'runs', 'deliveries', 'sourcing'],
            concurrency: { system: 2, runs: 2, deliveries: 200, sourcing: 8 },
            started_at: '2026-11-22T09:00:00.000Z',
            last_seen_at: '2026-11-22T10:15:58.000Z',
          },
        ],
        max_age_ms: 15000,
      },
    },
    problems: ['unavailable'],
  })
  async workers() {
    const data = await withRedis(() => this.heartbeats.alive());
    data.sort((a, b) => a.id.localeCompare(b.id));
    return { data, max_age_ms: this.config.telemetry.heartbeatMaxAgeMs };
  }

  @Get('queues/:name/failed')
  @ApiRoute({
    id: 'admin.failedJobs',
    tag: 'admin',
    access: 'platform',
    summary: 'Failed jobs of a queue',
    description:
      'The newest failed jobs of a queue with why they failed (retry them with POST /v1/admin/queues/{name}/retry-failed). Payloads are not shown. 503 while Redis is unreachable.',
    params: queueNameParams,
    query: failedQuery,
    success: {
      status: 200,
      description: 'The failed jobs, newest first.',
      schema: 'FailedJobs',
      example: {
        queue: 'system',
        total: 1,
        data: [
          {
            id: 'ping:0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f',
            name: 'ping',
            failed_reason: 'connect ECONNREFUSED',
            attempts_made: 3,
            created_at: '2026-11-22T10:00:00.000Z',
            failed_at: '2026-11-22T10:00:09.000Z',
          },
        ],
      },
    },
    problems: ['unavailable'],
  })
  async failed(
    @Param('name') name: string,
    @Query(new ZodPipe(failedQuery, 'query')) query: z.output<typeof failedQuery>,
  ) {
    if (!(QUEUE_NAMES as readonly string[]).includes(name)) throw notFound('queue', name);
    const queue = this.producer.queue(name as QueueName);
    const limit = query.limit ?? 20;
    const [total, jobs] = await withRedis(() =>
      Promise.all([queue.getFailedCount(), queue.getFailed(0, limit - 1)]),
    );
    const date = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);
    return {
      queue: name,
      total,
      data: jobs
        .filter((job) => job !== undefined && job !== null)
        .map((job) => ({
          id: job.id ?? null,
          name: job.name,
          failed_reason: job.failedReason ? job.failedReason.slice(0, 1000) : null,
          attempts_made: job.attemptsMade,
          created_at: date(job.timestamp),
          failed_at: date(job.finishedOn),
        })),
    };
  }
}
