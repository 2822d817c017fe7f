import { Injectable } from '@nestjs/common';
import { JobProducer } from '@herald/queues';
import { QuotaService } from '@herald/rate-limit';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { HeraldLogger } from '@herald/telemetry';
import { LedgerRepository } from './ledger.repository';

/**
 * Promise 3's safety net: the ledger, not Redis, says what work is left. Deliveries that sit
 * unfinished past their due time with no progress are enqueued again under their own id — a
 * no-op while their job still exists, a new job when Redis lost it. Sending twice is not a
 * risk: the pipeline only sends what it can claim, and a `sending` row whose lease ran out is
 * sent again (same key) only where the account is at-least-once; otherwise it becomes `unknown`.
 */
@Injectable()
export class DeliveryReconciler {
  constructor(
    private readonly ledger: LedgerRepository,
    private readonly producer: JobProducer,
    private readonly quota: QuotaService,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly logger: HeraldLogger,
  ) {}

  async sweep(options: { quietMs: number; limit: number }): Promise<number> {
    const runs = await this.resumeRuns(options.quietMs);
    const stalled = await this.ledger.findStalled(options.quietMs, options.limit);
    if (stalled.length === 0) return runs;
    await this.producer.enqueueBulk(
      'deliveries.send',
      stalled.map((d) => ({ tenant_id: d.tenantId, delivery_id: d.id })),
    );
    await this.ledger.touch(stalled);
    this.logger.info({ count: stalled.length }, 'stalled deliveries enqueued again');
    return runs + stalled.length;
  }

  /**
   * Runs accepted but not fanned out (their job was never enqueued, or lost): their fan-out is
   * enqueued again under the run id. The fan-out resumes from its saved cursor.
   */
  private async resumeRuns(quietMs: number): Promise<number> {
    const runs = await this.dataSource.query<{ tenant_id: string; id: string }[]>(
      `SELECT tenant_id, id FROM campaign_runs
        WHERE status IN ('queued', 'running') AND NOT fanout_done AND NOT dry_run
          AND created_at < now() - make_interval(secs => $1::double precision / 1000)
        LIMIT 500`,
      [quietMs],
    );
    if (runs.length === 0) return 0;
    await this.producer.enqueueBulk(
      'runs.fanout',
      runs.map((r) => ({ tenant_id: r.tenant_id, run_id: r.id })),
    );
    this.logger.info({ count: runs.length }, 'unfinished run fan-outs enqueued again');
    return runs.length;
  }

  /**
   * Quota reservations a crashed worker never settled: the ledger says whether the send
   * happened. Sent → commit; not sent and no attempt in flight → refund; unknown (no row, or
   * the `unknown` status) → commit (counting a unit that was not used is the safe mistake;
   * exceeding a quota is not).
   */
  async settleReservations(options: {
    olderThanMs: number;
    limit: number;
  }): Promise<{ committed: number; refunded: number }> {
    const pending = await this.quota.pending(options.olderThanMs, options.limit);
    if (pending.length === 0) return { committed: 0, refunded: 0 };
    const deliveryIds = pending
      .map((r) => r.id.split(':')[0] ?? '')
      .filter((id) => /^[0-9a-f-]{36}$/.test(id));
    const rows = await this.dataSource.query<{ id: string; status: string }[]>(
      `SELECT id, status FROM deliveries WHERE id = ANY ($1::uuid[])`,
      [deliveryIds],
    );
    const status = new Map(rows.map((r) => [r.id, r.status]));
    let committed = 0;
    let refunded = 0;
    for (const reservation of pending) {
      const state = status.get(reservation.id.split(':')[0] ?? '');
      if (state === 'sending') continue; // an attempt may still settle it
      if (state !== undefined && state !== 'sent' && state !== 'unknown') {
        if ((await this.quota.refund(reservation)) === 'refunded') refunded += 1;
      } else if ((await this.quota.commit(reservation)) === 'committed') {
        committed += 1;
      }
    }
    if (committed + refunded > 0)
      this.logger.info({ committed, refunded }, 'stale quota reservations settled');
    return { committed, refunded };
  }
}
