import type { DataSource } from 'typeorm';
import type { Bucket } from './buckets';
import type { ReserveItem, ItemCode } from './redis-quota.store';
import type { CommitOutcome, PendingReservation, RefundOutcome } from './quota.types';
import { inTransaction, type Query } from './postgres-transaction';

interface UsageRow {
  scope: string;
  window_id: string;
  limit_units: number;
  used: number;
  leased: number;
}

/**
 * The source of truth for how much of each window has been handed out, and the fallback that
 * admits directly while Redis is unreachable. Row `quota_usage(scope, window_id)`:
 *   used    units reserved directly here (the fallback), net of refunds;
 *   leased  units leased to Redis in blocks (Redis admits within them).
 * Every grant — a lease or a direct reservation — keeps `used + leased ≤ limit_units` under
 * the row lock, so the sum of everything admitted anywhere never exceeds the limit.
 */
export class PostgresQuotaStore {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Leases up to `units` per bucket to Redis. Returns what was granted and what is left
   * unleased afterwards (`free`), in the order asked.
   */
  async lease(
    asks: readonly { readonly bucket: Bucket; readonly units: number }[],
  ): Promise<{ bucket: Bucket; units: number; free: number }[]> {
    return this.transaction(async (query) => {
      const rows = await this.lockBuckets(
        query,
        asks.map((a) => a.bucket),
      );
      const grants = asks.map(({ bucket, units }) => {
        const row = rowFor(rows, bucket);
        const available = Math.max(0, row.limit_units - row.used - row.leased);
        const granted = Math.min(units, available);
        return { bucket, units: granted, free: available - granted };
      });
      const changed = grants.filter((g) => g.units > 0);
      if (changed.length > 0) {
        await query(
          `UPDATE quota_usage q SET leased = q.leased + g.units, updated_at = now()
             FROM unnest($1::text[], $2::text[], $3::int[]) AS g(scope, window_id, units)
            WHERE q.scope = g.scope AND q.window_id = g.window_id`,
          [
            changed.map((g) => g.bucket.scope),
            changed.map((g) => g.bucket.windowId),
            changed.map((g) => g.units),
          ],
        );
      }
      return grants;
    });
  }

  /**
   * The fallback: reserves the items in order, stopping at the first that does not fit in
   * every bucket (same answer shape as the Redis script).
   */
  async reserve(
    accountScope: string,
    buckets: readonly Bucket[],
    items: readonly ReserveItem[],
    now: number,
    reservationTtlMs: number,
  ): Promise<{ items: ItemCode[]; blocked: number[]; remaining: number[] }> {
    return this.transaction(async (query) => {
      // The bucket row locks serialise every reservation of this account (and run).
      const rows = buckets.length > 0 ? await this.lockBuckets(query, buckets) : [];
      const existing = await query<{ id: string; state: string; units: number; reserved_ms: string }>(
        `SELECT id, state, units, (extract(epoch FROM reserved_at) * 1000)::bigint::text AS reserved_ms
           FROM quota_reservations WHERE id = ANY($1::text[])`,
        [items.map((i) => i.id)],
      );
      const known = new Map(existing.map((r) => [r.id, r]));
      const avail = buckets.map((b) => {
        const row = rowFor(rows, b);
        return Math.max(0, Math.min(b.limit, row.limit_units) - row.used - row.leased);
      });
      let taken = 0;
      let stopped = false;
      const blocked: number[] = [];
      const admitted: ReserveItem[] = [];
      const codes = items.map((item): ItemCode => {
        const prior = known.get(item.id);
        if (prior) {
          const code = prior.state === 'reserved' ? 'r' : prior.state === 'committed' ? 'c' : 'f';
          return { code, units: prior.units, reservedAt: Number(prior.reserved_ms) };
        }
        if (stopped) return { code: 'd' };
        avail.forEach((a, i) => {
          if (a - taken < item.units) blocked.push(i);
        });
        if (blocked.length > 0) {
          stopped = true;
          return { code: 'd' };
        }
        taken += item.units;
        admitted.push(item);
        return { code: 'a' };
      });
      if (admitted.length > 0) {
        const pairs = JSON.stringify(buckets.map((b) => [b.scope, b.windowId]));
        await query(
          `INSERT INTO quota_reservations (id, scope, buckets, units, state, reserved_at, expires_at)
           SELECT t.id, $2, $3::jsonb, t.units, 'reserved', $4::timestamptz, $5::timestamptz
             FROM unnest($1::text[], $6::int[]) AS t(id, units)`,
          [
            admitted.map((i) => i.id),
            accountScope,
            pairs,
            new Date(now).toISOString(),
            new Date(now + reservationTtlMs).toISOString(),
            admitted.map((i) => i.units),
          ],
        );
        if (buckets.length > 0) {
          await query(
            `UPDATE quota_usage q SET used = q.used + $3, updated_at = now()
               FROM unnest($1::text[], $2::text[]) AS g(scope, window_id)
              WHERE q.scope = g.scope AND q.window_id = g.window_id`,
            [buckets.map((b) => b.scope), buckets.map((b) => b.windowId), taken],
          );
        }
      }
      return { items: codes, blocked, remaining: avail.map((a) => a - taken) };
    });
  }

  async commit(id: string, now: number): Promise<CommitOutcome> {
    return this.transaction(async (query) => {
      const updated = await query<{ id: string }>(
        `UPDATE quota_reservations SET state = 'committed', resolved_at = $2::timestamptz
          WHERE id = $1 AND state = 'reserved' RETURNING id`,
        [id, new Date(now).toISOString()],
      );
      if (updated.length > 0) return 'committed';
      const [prior] = await query<{ state: string }>('SELECT state FROM quota_reservations WHERE id = $1', [
        id,
      ]);
      if (!prior) return 'unknown';
      return prior.state === 'committed' ? 'already_committed' : 'refunded';
    });
  }

  async refund(id: string, now: number): Promise<RefundOutcome> {
    return this.transaction(async (query) => {
      const [row] = await query<{ buckets: [string, string][]; units: number }>(
        `UPDATE quota_reservations SET state = 'refunded', resolved_at = $2::timestamptz
          WHERE id = $1 AND state = 'reserved' RETURNING buckets, units`,
        [id, new Date(now).toISOString()],
      );
      if (row) {
        if (row.buckets.length > 0) {
          await query(
            `UPDATE quota_usage q SET used = GREATEST(q.used - $3, 0), updated_at = now()
               FROM unnest($1::text[], $2::text[]) AS g(scope, window_id)
              WHERE q.scope = g.scope AND q.window_id = g.window_id`,
            [row.buckets.map((b) => b[0]), row.buckets.map((b) => b[1]), row.units],
          );
        }
        return 'refunded';
      }
      const [prior] = await query<{ state: string }>('SELECT state FROM quota_reservations WHERE id = $1', [
        id,
      ]);
      if (!prior) return 'unknown';
      return prior.state === 'committed' ? 'committed' : 'already_refunded';
    });
  }

  async pending(before: number, limit: number): Promise<PendingReservation[]> {
    const rows = await this.dataSource.query<{ id: string; units: number; reserved_ms: string }[]>(
      `SELECT id, units, (extract(epoch FROM reserved_at) * 1000)::bigint::text AS reserved_ms
         FROM quota_reservations
        WHERE state = 'reserved' AND reserved_at <= $1::timestamptz
        ORDER BY reserved_at LIMIT $2`,
      [new Date(before).toISOString(), limit],
    );
    return rows.map((r) => ({
      id: r.id,
      backend: 'postgres',
      units: r.units,
      reservedAt: Number(r.reserved_ms),
    }));
  }

  /** `used` and `leased` of each bucket (0 when it has no row yet). */
  async usage(buckets: readonly Bucket[]): Promise<{ used: number; leased: number }[]> {
    if (buckets.length === 0) return [];
    const rows = await this.dataSource.query<UsageRow[]>(
      `SELECT q.scope, q.window_id, q.limit_units, q.used, q.leased
         FROM quota_usage q JOIN unnest($1::text[], $2::text[]) AS g(scope, window_id)
           ON q.scope = g.scope AND q.window_id = g.window_id`,
      [buckets.map((b) => b.scope), buckets.map((b) => b.windowId)],
    );
    return buckets.map((b) => {
      const row = rows.find((r) => r.scope === b.scope && r.window_id === b.windowId);
      return { used: row?.used ?? 0, leased: row?.leased ?? 0 };
    });
  }

  /** Housekeeping: forgets windows and reservations past their expiry. Returns rows deleted. */
  async purgeExpired(now: number): Promise<number> {
    const at = new Date(now).toISOString();
    return this.transaction(async (query) => {
      const usage = await query('DELETE FROM quota_usage WHERE expires_at < $1::timestamptz RETURNING 1', [
        at,
      ]);
      const reservations = await query(
        'DELETE FROM quota_reservations WHERE expires_at < $1::timestamptz RETURNING 1',
        [at],
      );
      return usage.length + reservations.length;
    });
  }

  /**
   * Creates missing rows, refreshes limit and expiry, and locks the rows: ON CONFLICT DO UPDATE
   * takes the row lock, and the sorted order keeps concurrent transactions from deadlocking.
   */
  private lockBuckets(query: Query, buckets: readonly Bucket[]): Promise<UsageRow[]> {
    return query<UsageRow>(
      `INSERT INTO quota_usage AS q (scope, window_id, limit_units, expires_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[]) AS t(scope, window_id, limit_units, expires_at)
        ORDER BY 1, 2
       ON CONFLICT (scope, window_id) DO UPDATE
          SET limit_units = EXCLUDED.limit_units, expires_at = GREATEST(q.expires_at, EXCLUDED.expires_at)
       RETURNING scope, window_id, limit_units, used, leased`,
      [
        buckets.map((b) => b.scope),
        buckets.map((b) => b.windowId),
        buckets.map((b) => b.limit),
        buckets.map((b) => new Date(b.expireAt).toISOString()),
      ],
    );
  }

  private transaction<T>(work: (query: Query) => Promise<T>): Promise<T> {
    return inTransaction(this.dataSource, work);
  }
}

function rowFor(rows: readonly UsageRow[], bucket: Bucket): UsageRow {
  const row = rows.find((r) => r.scope === bucket.scope && r.window_id === bucket.windowId);
  if (!row) throw new Error(`quota_usage row ${bucket.scope} ${bucket.windowId} was not locked`);
  return row;
}
