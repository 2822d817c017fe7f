import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { queryRows } from '@herald/persistence';
import { JOBS, JobProducer, QUEUE_NAMES, type JobName } from '@herald/queues';
import type { DataSource } from 'typeorm';

/** Dispatched outbox rows are kept this long (for "when was this relayed?" questions), then purged. */
const OUTBOX_KEEP_MS = 7 * 86_400_000;
/** Rows deleted per statement: short transactions, never a long lock. */
const BATCH = 5000;

/**
 * The leading beat's housekeeping: expired idempotency keys, dispatched outbox rows, and the
 * completed and failed jobs past their retention. BullMQ trims finished jobs only when other
 * jobs of the queue finish, so a quiet queue would keep them forever; here each queue is cleaned
 * to the longest retention its jobs ask for (JOBS).
 */
@Injectable()
export class Housekeeping {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly producer: JobProducer,
  ) {}

  async expiredIdempotencyKeys(): Promise<number> {
    return this.deleteBatch(
      `DELETE FROM idempotency_keys WHERE id IN
         (SELECT id FROM idempotency_keys WHERE expires_at <= now() LIMIT $1) RETURNING 1`,
      [BATCH],
    );
  }

  async dispatchedOutbox(): Promise<number> {
    return this.deleteBatch(
      `DELETE FROM outbox WHERE id IN
         (SELECT id FROM outbox WHERE dispatched_at < now() - make_interval(secs => $2::double precision / 1000) LIMIT $1)
       RETURNING 1`,
      [BATCH, OUTBOX_KEEP_MS],
    );
  }

  /** Cleans every queue's completed and failed jobs older than their retention; returns how many. */
  async finishedJobs(): Promise<number> {
    let removed = 0;
    for (const queueName of QUEUE_NAMES) {
      const definitions = (Object.keys(JOBS) as JobName[])
        .map((n) => JOBS[n])
        .filter((d) => d.queue === queueName);
      const keep = (pick: 'removeOnComplete' | 'removeOnFail') =>
        Math.max(
          ...definitions.map((d) => {
            const option = d.options[pick];
            return typeof option === 'object' && 'age' in option && option.age !== undefined
              ? option.age * 1000
              : 30 * 86_400_000;
          }),
        );
      const queue = this.producer.queue(queueName);
      removed += (await queue.clean(keep('removeOnComplete'), BATCH, 'completed')).length;
      removed += (await queue.clean(keep('removeOnFail'), BATCH, 'failed')).length;
    }
    return removed;
  }

  private async deleteBatch(sql: string, params: unknown[]): Promise<number> {
    return queryRows(await this.dataSource.query(sql, params)).length;
  }
}
