import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { KEY_COLUMNS, ROLLUP_LOCK_KEY, VALUE_COLUMNS } from './rollup-columns';

const keys = KEY_COLUMNS.join(', ');
const sums = VALUE_COLUMNS.map((c) => `sum(${c})`).join(', ');
const adds = VALUE_COLUMNS.map((c) => `${c} = r.${c} + excluded.${c}`).join(', ');

/**
 * Folds appended deltas into the rollups, a batch at a time: one statement moves the batch
 * (deleted, grouped by key, upserted), so a reader — which adds the unfolded deltas to the
 * rolled-up rows in one snapshot — sees each delta exactly once, before or after. Deltas of a
 * tenant deleted since are dropped with it. Run by beat's leader every ANALYTICS_FOLD_INTERVAL_MS.
 */
@Injectable()
export class RollupFolder {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Folds up to `limit` deltas per statement until none are left (at most `rounds` statements); returns how many. */
  async fold(limit = 50_000, rounds = 20): Promise<number> {
    let total = 0;
    for (let round = 0; round < rounds; round++) {
      const folded = await this.dataSource.transaction('READ COMMITTED', async (m) => {
        await m.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [ROLLUP_LOCK_KEY]);
        const [row] = await m.query<{ folded: number }[]>(
          `WITH moved AS (
             DELETE FROM analytics_deltas
              WHERE ctid = ANY (ARRAY(SELECT ctid FROM analytics_deltas LIMIT $1))
             RETURNING *
           ), grouped AS (
             SELECT ${keys}, ${sums} FROM moved GROUP BY ${keys}
           ), upserted AS (
             INSERT INTO analytics_rollups AS r (${keys}, ${VALUE_COLUMNS.join(', ')})
             SELECT g.* FROM grouped g WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = g.tenant_id)
             ON CONFLICT (${keys}) DO UPDATE SET ${adds}
             RETURNING 1
           )
           SELECT (SELECT count(*) FROM moved)::int AS folded, (SELECT count(*) FROM upserted) AS rows`,
          [limit],
        );
        return row?.folded ?? 0;
      });
      total += folded;
      if (folded < limit) break;
    }
    return total;
  }
}
