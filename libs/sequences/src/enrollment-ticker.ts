import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { queryRows } from '@herald/persistence';
import { JobProducer } from '@herald/queues';
import { HeraldLogger } from '@herald/telemetry';
import { CLOCK, type Clock } from '@herald/time';
import type { DataSource } from 'typeorm';
import { ENROLLMENT_STATUSES, type EnrollmentStatus } from './sequence-fields';

/**
 * One statement takes the due enrollments and writes their deliveries:
 * - `due`: active enrollments whose step is due, oldest first, locked (SKIP LOCKED: two beats, or
 *   an event stopping the enrollment right now, never take the same row). Enrollments of paused
 *   campaigns are not taken: they wait until it resumes.
 * - `ended`: those of archived campaigns stop; those whose campaign has no step left (its steps
 *   were shortened meanwhile) complete.
 * - `taken`: the others get next_due_at NULL (a step in flight); the ledger trigger sets the next
 *   due time when the delivery is sent.
 * - `ins`: one delivery per taken step, keyed `sq:<enrollment>:<step>` (DeliveryKeys.sequence):
 *   a step already in the ledger is never written twice.
 * Returns the still-pending deliveries of the taken steps (new or not) for enqueueing.
 */
const TICK_SQL = `
WITH due AS (
  SELECT e.tenant_id, e.id, e.campaign_id, e.contact_id, e.current_step,
         g.status AS campaign_status, g.sender_account_id, s.channel,
         e.current_step >= jsonb_array_length(g.steps) AS steps_done
    FROM enrollments e
    JOIN campaigns g ON g.tenant_id = e.tenant_id AND g.id = e.campaign_id
    JOIN sender_accounts s ON s.tenant_id = g.tenant_id AND s.id = g.sender_account_id
   WHERE e.status = 'active' AND e.next_due_at IS NOT NULL AND e.next_due_at <= $2
     AND g.status <> 'paused'
   ORDER BY e.next_due_at
   LIMIT $1
   FOR UPDATE OF e SKIP LOCKED
),
ended AS (
  UPDATE enrollments e
     SET status = CASE WHEN d.campaign_status = 'archived' THEN 'stopped' ELSE 'completed' END,
         stop_reason = CASE WHEN d.campaign_status = 'archived' THEN 'campaign archived' END,
         next_due_at = NULL, finished_at = now(), updated_at = now()
    FROM due d
   WHERE e.tenant_id = d.tenant_id AND e.id = d.id AND (d.campaign_status = 'archived' OR d.steps_done)
  RETURNING e.id
),
taken AS (
  UPDATE enrollments e SET next_due_at = NULL, updated_at = now()
    FROM due d
   WHERE e.tenant_id = d.tenant_id AND e.id = d.id AND d.campaign_status = 'active' AND NOT d.steps_done
  RETURNING d.tenant_id, d.id, d.campaign_id, d.contact_id, d.current_step, d.sender_account_id, d.channel,
            'sq:' || d.id || ':' || d.current_step AS delivery_key
),
ins AS (
  INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, run_id, contact_id, sender_account_id, channel, step, enrollment_id)
  SELECT t.tenant_id, uuidv7(), t.delivery_key, t.campaign_id, NULL, t.contact_id, t.sender_account_id, t.channel,
         t.current_step, t.id
    FROM taken t
  ON CONFLICT (tenant_id, delivery_key) DO NOTHING
  RETURNING tenant_id, id
)
SELECT tenant_id, id FROM ins
UNION ALL
SELECT d.tenant_id, d.id
  FROM taken t JOIN deliveries d ON d.tenant_id = t.tenant_id AND d.delivery_key = t.delivery_key
 WHERE d.status = 'pending'`;

/**
 * The enrollment ticker: turns sequence steps that are due into deliveries. The leading beat
 * calls `tick` every BEAT_TICK_INTERVAL_MS.
 */
@Injectable()
export class EnrollmentTicker {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly producer: JobProducer,
    private readonly logger: HeraldLogger,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Turns up to `limit` steps due by the injected clock into deliveries and enqueues them;
   * returns how many were enqueued.
   */
  async tick(limit = 1000): Promise<number> {
    const rows = queryRows<{ tenant_id: string; id: string }>(
      await this.dataSource.query(TICK_SQL, [limit, this.clock.now().toISOString()]),
    );
    if (rows.length === 0) return 0;
    // After the commit. A crash (or a Redis outage) between the commit and this enqueue loses no
    // step: the rows are pending in the ledger, and the beat's stalled-delivery sweep re-enqueues
    // pending deliveries that stay quiet for DELIVERY_STALL_MS (same job id: never twice).
    await this.producer.enqueueBulk(
      'deliveries.send',
      rows.map((r) => ({ tenant_id: r.tenant_id, delivery_id: r.id })),
    );
    this.logger.debug({ enqueued: rows.length }, 'sequence steps enqueued');
    return rows.length;
  }

  /** Seconds since the oldest due step of an active (not paused) campaign became due; 0 when none waits. */
  async lagSeconds(): Promise<number> {
    const [row] = await this.dataSource.query<{ lag: number | string | null }[]>(
      `SELECT extract(epoch FROM now() - e.next_due_at) AS lag
         FROM enrollments e
         JOIN campaigns g ON g.tenant_id = e.tenant_id AND g.id = e.campaign_id
        WHERE e.status = 'active' AND e.next_due_at IS NOT NULL AND e.next_due_at <= now()
          AND g.status <> 'paused'
        ORDER BY e.next_due_at
        LIMIT 1`,
    );
    return Math.max(0, Number(row?.lag ?? 0));
  }

  /** Enrollments by status, across tenants (for metrics). */
  async countsByState(): Promise<Record<EnrollmentStatus, number>> {
    const rows = await this.dataSource.query<{ status: EnrollmentStatus; n: string }[]>(
      `SELECT status, count(*) AS n FROM enrollments GROUP BY status`,
    );
    const counts = Object.fromEntries(ENROLLMENT_STATUSES.map((s) => [s, 0])) as Record<
      EnrollmentStatus,
      number
    >;
    for (const r of rows) counts[r.status] = Number(r.n);
    return counts;
  }
}
