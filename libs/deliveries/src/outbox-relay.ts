import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { JOB_NAMES, JOBS, JobProducer, type JobName, type JobPayloads } from '@herald/queues';
import { HeraldLogger } from '@herald/telemetry';
import type { DataSource, EntityManager } from 'typeorm';

interface OutboxRow {
  id: string;
  job_name: string;
  payload: JobPayloads[JobName];
}

/**
 * How long a dispatch waits for Redis. BullMQ queues commands while disconnected, so an enqueue
 * during an outage would otherwise hang the request; past this the row is left for the sweep
 * (and the queued command, should Redis come back, adds the same job id: a no-op).
 */
const DISPATCH_TIMEOUT_MS = 1000;

/**
 * The transactional outbox (promise 3): work is accepted by writing its job into `outbox` in the
 * same transaction as the rows it acts on, then relayed to its queue after commit. A job whose
 * relay fails (Redis down) stays undispatched for `dispatchPending`, and since job ids are
 * deterministic, relaying a row twice adds the job once.
 */
@Injectable()
export class OutboxRelay {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly producer: JobProducer,
    private readonly logger: HeraldLogger,
  ) {}

  /** Records the job in the caller's transaction; nothing reaches Redis until `dispatch…`. */
  async write<N extends JobName>(
    manager: EntityManager,
    tenantId: string | null,
    name: N,
    payload: JobPayloads[N],
  ): Promise<void> {
    const definition = JOBS[name];
    await manager.query(
      `INSERT INTO outbox (tenant_id, queue, job_name, job_id, payload) VALUES ($1, $2, $3, $4, $5)`,
      [tenantId, definition.queue, name, definition.jobId(payload), JSON.stringify(payload)],
    );
  }

  /**
   * After commit: relays the undispatched rows of this one job. Returns whether it is on its
   * queue now; false (logged, never thrown) leaves it for the sweep.
   */
  async dispatchJob<N extends JobName>(name: N, payload: JobPayloads[N]): Promise<boolean> {
    const definition = JOBS[name];
    const rows = await this.dataSource.query<OutboxRow[]>(
      `SELECT id, job_name, payload FROM outbox
        WHERE queue = $1 AND job_id = $2 AND job_name = $3 AND dispatched_at IS NULL`,
      [definition.queue, definition.jobId(payload), name],
    );
    return (await this.relay(rows)) === rows.length;
  }

  /** The sweep: relays the oldest undispatched rows (up to `limit`); returns how many it relayed. */
  async dispatchPending(limit = 500): Promise<number> {
    const rows = await this.dataSource.query<OutboxRow[]>(
      `SELECT id, job_name, payload FROM outbox WHERE dispatched_at IS NULL ORDER BY created_at, id LIMIT $1`,
      [limit],
    );
    return this.relay(rows);
  }

  private async relay(rows: readonly OutboxRow[]): Promise<number> {
    const known = rows.filter((row) => {
      if (isJobName(row.job_name)) return true;
      this.logger.error({ outbox_id: row.id, job_name: row.job_name }, 'outbox row names an unknown job');
      return false;
    });
    if (known.length === 0) return 0;
    const enqueued = await withTimeout(
      Promise.all(known.map((row) => this.producer.enqueue(row.job_name as JobName, row.payload))),
      DISPATCH_TIMEOUT_MS,
    );
    if (!enqueued.ok) {
      this.logger.warn(
        { count: known.length, err: { message: enqueued.reason } },
        'outbox relay failed: the jobs stay in the outbox for the sweep',
      );
      return 0;
    }
    await this.dataSource.query(
      `UPDATE outbox SET dispatched_at = now() WHERE id = ANY ($1::bigint[]) AND dispatched_at IS NULL`,
      [known.map((row) => row.id)],
    );
    return known.length;
  }
}

function isJobName(name: string): name is JobName {
  return (JOB_NAMES as readonly string[]).includes(name);
}

async function withTimeout(
  work: Promise<unknown>,
  ms: number,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ ok: false; reason: string }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: `no answer from Redis within ${ms} ms` }), ms);
  });
  try {
    // race() subscribes to `work`: a rejection after the timeout is handled, not unhandled.
    return await Promise.race([
      work.then(
        () => ({ ok: true as const }),
        (error: unknown) => ({ ok: false as const, reason: (error as Error).message }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
