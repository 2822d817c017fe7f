import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { JobProducer, QUEUE_NAMES, type QueueName } from '@herald/queues';
import { CircuitBreaker, formatCircuitKey, type CircuitKey } from '@herald/resilience';
import { circuitAccountType, type CircuitAccountType } from '@herald/sourcing';
import type { Principal } from '@herald/tenants';
import type { z } from 'zod';
import { Caller } from '../http/access';
import { ApiRoute } from '../http/openapi';
import { notFound, ZodPipe } from '../http/validation.pipes';
import {
  circuitKeyParams,
  EXAMPLE_FLEET_CIRCUIT,
  fleetCircuitView,
  JOB_STATES,
  openCircuitBody,
  queueNameParams,
} from './admin.schemas';
import { CircuitOwners } from './circuit-owners';
import { withRedis } from './engine-http';
import { noBody } from './runs.schemas';

const BULLMQ_STATES = Object.keys(JOB_STATES) as (keyof typeof JOB_STATES)[];
const DEFAULT_OPEN_SECONDS = 60;

/**
 * Operating the fleet: queue depths and circuit breakers. A tenant admin sees and touches only
 * what concerns its own sender and source accounts (queues are shared: their depths are
 * fleet-wide counts with no tenant data); failed jobs are the fleet's, so retrying them is the
 * platform's.
 */
@Controller('v1/admin')
export class AdminController {
  constructor(
    private readonly producer: JobProducer,
    private readonly breaker: CircuitBreaker,
    private readonly owners: CircuitOwners,
  ) {}

  @Get('queues')
  @ApiRoute({
    id: 'admin.queues',
    tag: 'admin',
    access: 'operator',
    summary: 'Queue depths',
    description:
      'Jobs in each state per queue, read from Redis (fleet-wide: queues are shared by every tenant). 503 while Redis is unreachable.',
    success: {
      status: 200,
      description: 'Each queue with its counts.',
      schema: 'QueueDepths',
      example: {
        data: [
          {
            name: 'deliveries',
            counts: {
              waiting: 1200,
              active: 64,
              delayed: 30,
              prioritized: 0,
              waiting_children: 0,
              failed: 2,
              completed: 1000,
            },
          },
        ],
      },
    },
    problems: ['unavailable'],
  })
  async queues() {
    const data = await withRedis(() =>
      Promise.all(
        QUEUE_NAMES.map(async (name) => {
          const counts = await this.producer.queue(name).getJobCounts(...BULLMQ_STATES);
          return {
            name,
            counts: Object.fromEntries(BULLMQ_STATES.map((s) => [JOB_STATES[s], counts[s] ?? 0])),
          };
        }),
      ),
    );
    return { data };
  }

  @Post('queues/:name/retry-failed')
  @HttpCode(200)
  @ApiRoute({
    id: 'admin.retryFailed',
    tag: 'admin',
    access: 'platform',
    summary: 'Retry the failed jobs of a queue',
    description:
      'Moves every job that had failed when the call started back to waiting. `retried` is how many failed jobs there were then. No body (or `{}`).',
    params: queueNameParams,
    success: {
      status: 200,
      description: 'How many jobs were retried.',
      schema: 'RetriedJobs',
      example: { queue: 'deliveries', retried: 2 },
    },
    problems: ['unavailable', 'unsupported-media-type', 'payload-too-large'],
  })
  async retryFailed(
    @Param('name') name: string,
    @Body(new ZodPipe(noBody, 'body')) _body: z.output<typeof noBody>,
  ) {
    if (!(QUEUE_NAMES as readonly string[]).includes(name)) throw notFound('queue', name);
    const queue = this.producer.queue(name as QueueName);
    const retried = await withRedis(async () => {
      const failed = await queue.getFailedCount();
      // Only jobs that failed before now: a job failing again meanwhile is not retried in a loop.
      await queue.retryJobs({ state: 'failed', timestamp: Date.now(), count: 1000 });
      return failed;
    }, 30_000);
    return { queue: name, retried };
  }

  @Get('circuits')
  @ApiRoute({
    id: 'admin.circuits',
    tag: 'admin',
    access: 'operator',
    summary: 'Circuit breakers',
    description:
      'Every circuit that has a record in Redis — those that failed or were forced lately; any other is closed: one per sender account (`<channel>:<id>`, what it sends through) and one per source account (`<kind>:<id>`, what it searches, visits or looks up through), told apart by `account_type`. A tenant admin sees its own accounts’ circuits only, both kinds.',
    success: {
      status: 200,
      description: 'The circuits.',
      schema: 'CircuitList',
      example: { data: [EXAMPLE_FLEET_CIRCUIT] },
    },
    problems: ['unavailable'],
  })
  async circuits(@Caller() caller: Principal) {
    const all = await withRedis(() => this.breaker.list());
    const own = caller.kind === 'platform' ? undefined : await this.owners.keysOf(caller.tenantId);
    return {
      data: all.flatMap((c) => {
        const type = circuitAccountType(c.key);
        // A key no account kind has is no circuit this API can name (nothing records one today).
        if (!type || (own && !own.has(formatCircuitKey(c.key)))) return [];
        return [fleetCircuitView(c, type)];
      }),
    };
  }

  @Post('circuits/:key/open')
  @HttpCode(200)
  @ApiRoute({
    id: 'admin.openCircuit',
    tag: 'admin',
    access: 'operator',
    summary: 'Open a circuit by hand',
    description:
      'Holds the circuit open for `duration_seconds` (default 60): the fleet sends nothing through this sender account meanwhile (its deliveries wait, none fails), or makes no request through this source account (its runs wait). Then one probe decides as usual. A circuit of another tenant’s account is 404.',
    params: circuitKeyParams,
    body: { schema: openCircuitBody, example: { duration_seconds: 300 } },
    success: {
      status: 200,
      description: 'The circuit now.',
      schema: 'FleetCircuit',
      example: EXAMPLE_FLEET_CIRCUIT,
    },
    problems: ['unavailable'],
  })
  async open(
    @Caller() caller: Principal,
    @Param('key') raw: string,
    @Body(new ZodPipe(openCircuitBody, 'body')) body: z.output<typeof openCircuitBody>,
  ) {
    const { key, type } = await this.circuitOf(caller, raw);
    const seconds = body?.duration_seconds ?? DEFAULT_OPEN_SECONDS;
    return fleetCircuitView(
      await withRedis(async () => {
        await this.breaker.forceOpen(key, seconds * 1000);
        return this.breaker.get(key);
      }),
      type,
    );
  }

  @Post('circuits/:key/close')
  @HttpCode(200)
  @ApiRoute({
    id: 'admin.closeCircuit',
    tag: 'admin',
    access: 'operator',
    summary: 'Close a circuit by hand',
    description:
      'Closes the circuit and resets its backoff: sending (or searching) resumes at once. A circuit of another tenant’s account is 404. No body (or `{}`).',
    params: circuitKeyParams,
    success: {
      status: 200,
      description: 'The circuit now.',
      schema: 'FleetCircuit',
      example: { ...EXAMPLE_FLEET_CIRCUIT, state: 'closed', open_until: null, period_ms: 0 },
    },
    problems: ['unavailable', 'unsupported-media-type', 'payload-too-large'],
  })
  async close(
    @Caller() caller: Principal,
    @Param('key') raw: string,
    @Body(new ZodPipe(noBody, 'body')) _body: z.output<typeof noBody>,
  ) {
    const { key, type } = await this.circuitOf(caller, raw);
    return fleetCircuitView(
      await withRedis(async () => {
        await this.breaker.forceClose(key);
        return this.breaker.get(key);
      }),
      type,
    );
  }

  /** The circuit a path names, if the caller may touch it (a tenant: its own accounts' only), or 404. */
  private async circuitOf(
    caller: Principal,
    raw: string,
  ): Promise<{ key: CircuitKey; type: CircuitAccountType }> {
    const circuit = await this.owners.resolve(caller, raw);
    if (!circuit) throw notFound('circuit', raw);
    return circuit;
  }
}
