import { JOB_STATES as STATES, type QueueName } from '@herald/queues';
import type { Job, Queue } from 'bullmq';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { CliError, EXIT } from '../exit-codes';
import { parseCount } from '../input';
import { table } from '../output';
import type { Run } from '../program';

/** A state as the API shows it (snake_case). */
const shown = (state: string) => state.replace('-', '_');
const REASON_WIDTH = 100;

/** `herald queues` and `herald failed list|retry <queue>`: BullMQ on REDIS_URL, under QUEUE_PREFIX. */
export function registerQueueCommands(program: Command, run: Run): void {
  program
    .command('queues')
    .description('jobs per state in every queue, and whether it is paused (REDIS_URL)')
    .action((_options: unknown, command: Command) => run(command, showQueues));
  const failed = program.command('failed').description('failed jobs of a queue (REDIS_URL)');
  failed
    .command('list')
    .description('the most recent failed jobs: id, name, reason, attempts, when')
    .argument('<queue>', 'system, runs or deliveries')
    .option('--limit <n>', 'how many to show', '20')
    .action((queue: string, options: { limit: string }, command: Command) =>
      run(command, (ctx) => listFailed(ctx, queue, parseCount(options.limit, '--limit', 1000))),
    );
  failed
    .command('retry')
    .description('move every job that has failed so far back to waiting')
    .argument('<queue>', 'system, runs or deliveries')
    .action((queue: string, _options: unknown, command: Command) =>
      run(command, (ctx) => retryFailed(ctx, queue)),
    );
}

async function showQueues(ctx: CliContext): Promise<void> {
  const { QUEUE_NAMES } = await import('@herald/queues');
  const data = await withQueues(ctx, QUEUE_NAMES, (queues) =>
    Promise.all(
      queues.map(async (queue) => {
        const [counts, paused] = await Promise.all([queue.getJobCounts(...STATES), queue.isPaused()]);
        return {
          name: queue.name,
          paused,
          counts: Object.fromEntries(STATES.map((s) => [shown(s), counts[s] ?? 0])),
        };
      }),
    ),
  );
  ctx.out.result({ data }, () =>
    table(
      ['queue', ...STATES.map(shown), 'paused'],
      data.map((q) => [q.name, ...Object.values(q.counts), q.paused ? 'yes' : 'no']),
    ),
  );
}

async function listFailed(ctx: CliContext, name: string, limit: number): Promise<void> {
  const queueName = await knownQueue(name);
  const { total, jobs } = await withQueue(ctx, queueName, async (queue) => {
    const [total, jobs] = await Promise.all([queue.getFailedCount(), queue.getFailed(0, limit - 1)]);
    return { total, jobs: jobs as Job[] };
  });
  const data = jobs.map((job) => ({
    id: job.id ?? null,
    name: job.name,
    failed_reason: job.failedReason ?? null,
    attempts_made: job.attemptsMade,
    finished_at: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    payload: (job.data as { payload?: unknown } | undefined)?.payload ?? null,
  }));
  ctx.out.result({ queue: queueName, failed: total, data }, () => {
    if (data.length === 0) return `no failed jobs in ${queueName}`;
    const rows = data.map((j) => [j.id, j.name, j.attempts_made, j.finished_at, truncate(j.failed_reason)]);
    const summary = `${data.length} of ${total} failed job(s) in ${queueName}, most recent first`;
    return `${table(['id', 'name', 'attempts', 'finished', 'reason'], rows)}\n\n${summary}`;
  });
}

async function retryFailed(ctx: CliContext, name: string): Promise<void> {
  const queueName = await knownQueue(name);
  const retried = await withQueue(ctx, queueName, async (queue) => {
    const failed = await queue.getFailedCount();
    // Only jobs that failed before now: one failing again meanwhile is not retried in a loop.
    await queue.retryJobs({ state: 'failed', timestamp: Date.now(), count: 1000 });
    return failed;
  });
  ctx.out.result({ queue: queueName, retried }, () => `retried ${retried} failed job(s) of ${queueName}`);
}

async function knownQueue(name: string): Promise<QueueName> {
  const { QUEUE_NAMES } = await import('@herald/queues');
  if ((QUEUE_NAMES as readonly string[]).includes(name)) return name as QueueName;
  throw new CliError(EXIT.usage, `unknown queue ${JSON.stringify(name)}: one of ${QUEUE_NAMES.join(', ')}`);
}

/** BullMQ queues on the command's one Redis connection, with the fleet's hash-tagged prefix. */
async function withQueues<T>(
  ctx: CliContext,
  names: readonly QueueName[],
  work: (queues: Queue[]) => Promise<T>,
): Promise<T> {
  const [redis, keys, { Queue }, { hashTaggedPrefix }] = await Promise.all([
    ctx.redis(),
    ctx.redisKeys(),
    import('bullmq'),
    import('@herald/queues'),
  ]);
  const queues = names.map((name) => {
    const queue = new Queue(name, { connection: redis, prefix: hashTaggedPrefix(keys.prefix) });
    queue.on('error', () => undefined); // the failing call reports it
    return queue;
  });
  try {
    return await work(queues);
  } finally {
    await Promise.allSettled(queues.map((q) => q.close()));
  }
}

function withQueue<T>(ctx: CliContext, name: QueueName, work: (queue: Queue) => Promise<T>): Promise<T> {
  return withQueues(ctx, [name], ([queue]) => work(queue!));
}

function truncate(text: string | null): string | null {
  if (text === null || text.length <= REASON_WIDTH) return text;
  return `${text.slice(0, REASON_WIDTH - 1)}…`;
}
