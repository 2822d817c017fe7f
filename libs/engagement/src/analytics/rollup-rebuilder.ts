import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { KEY_COLUMNS, ROLLUP_LOCK_KEY, VALUE_COLUMNS } from './rollup-columns';
import { FIRST_EVENT_ORDER, ONCE_PER_DELIVERY_KINDS } from './rollup-deltas';

const keys = KEY_COLUMNS.join(', ');
const values = VALUE_COLUMNS.join(', ');
const sums = VALUE_COLUMNS.map((c) => `sum(${c})`).join(', ');
const zero = (except: Record<string, string>) =>
  VALUE_COLUMNS.map((c) => `${except[c] ?? '0'} AS ${c}`).join(', ');
const local = (at: string) => `(${at} AT TIME ZONE t.time_zone)::date`;
const onceKinds = ONCE_PER_DELIVERY_KINDS.map((k) => `'${k}'`).join(', ');

/** An engagement event's contribution: 1 in its kind's column (and its revenue). */
const eventValues = VALUE_COLUMNS.map((c) =>
  c === 'revenue'
    ? `CASE WHEN e.kind = 'converted' THEN coalesce(e.value, 0) ELSE 0 END AS revenue`
    : `(e.kind = '${c}')::int AS ${c}`,
).join(', ');

/**
 * Recomputes a tenant's rollups (or every tenant's) from the ledger (targeted, sent), the
 * engagement events and the candidates, with the same rules as the incremental path
 * (`rollup-deltas.ts` and the triggers of 1763933000000-AnalyticsRollups): the answer equals
 * what the deltas built. Replies and conversions are engagement events (POST /v1/events records
 * both), so the interactions need not be read. It holds the fold's lock (no fold meanwhile) and
 * works in one REPEATABLE READ snapshot: it replaces the rows and deltas visible in it, and a
 * delta committed after the snapshot stays, describing a change the snapshot did not see.
 */
@Injectable()
export class RollupRebuilder {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Returns the number of rollup rows written. */
  async rebuild(tenantId: string | null = null): Promise<number> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, [ROLLUP_LOCK_KEY]);
      try {
        await runner.startTransaction('REPEATABLE READ');
        try {
          const scope = `($1::uuid IS NULL OR tenant_id = $1::uuid)`;
          await runner.query(`DELETE FROM analytics_deltas WHERE ${scope}`, [tenantId]);
          await runner.query(`DELETE FROM analytics_rollups WHERE ${scope}`, [tenantId]);
          const written: unknown = await runner.query(this.rebuildSql(), [tenantId]);
          await runner.commitTransaction();
          return Array.isArray(written) ? written.length : 0;
        } catch (error) {
          await runner.rollbackTransaction();
          throw error;
        }
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [ROLLUP_LOCK_KEY]);
      }
    } finally {
      await runner.release();
    }
  }

  private rebuildSql(): string {
    const scope = (alias: string) => `($1::uuid IS NULL OR ${alias}.tenant_id = $1::uuid)`;
    return `
      WITH contributions AS (
        SELECT d.tenant_id, d.campaign_id, ${local('d.created_at')} AS day, d.step, d.variant, d.sender_account_id,
               NULL::char(3) AS currency, ${zero({ targeted: '1' })}
          FROM deliveries d JOIN tenants t ON t.id = d.tenant_id WHERE ${scope('d')}
        UNION ALL
        SELECT d.tenant_id, d.campaign_id, ${local('coalesce(d.sent_at, d.created_at)')}, d.step, d.variant,
               d.sender_account_id, NULL, ${zero({ sent: '1' })}
          FROM deliveries d JOIN tenants t ON t.id = d.tenant_id WHERE ${scope('d')} AND d.status = 'sent'
        UNION ALL
        SELECT e.tenant_id, e.campaign_id, ${local('e.occurred_at')}, e.step, e.variant, e.sender_account_id,
               CASE WHEN e.kind = 'converted' AND e.value IS NOT NULL THEN e.currency END, ${eventValues}
          FROM (
            (SELECT DISTINCT ON (tenant_id, delivery_id, kind) *
              FROM engagement_events x
             WHERE ${scope('x')} AND NOT machine AND delivery_id IS NOT NULL AND kind IN (${onceKinds})
             ORDER BY tenant_id, delivery_id, kind, ${FIRST_EVENT_ORDER})
            UNION ALL
            SELECT * FROM engagement_events x
             WHERE ${scope('x')} AND NOT machine AND (delivery_id IS NULL OR kind NOT IN (${onceKinds}))
          ) e JOIN tenants t ON t.id = e.tenant_id
        UNION ALL
        SELECT c.tenant_id, NULL, ${local('c.created_at')}, NULL, NULL, NULL, NULL,
               ${zero({ sourced: '1', contacts: '(c.contact_id IS NOT NULL)::int' })}
          FROM candidates c JOIN tenants t ON t.id = c.tenant_id WHERE ${scope('c')}
      )
      INSERT INTO analytics_rollups (${keys}, ${values})
      SELECT ${keys}, ${sums} FROM contributions GROUP BY ${keys}
      RETURNING 1`;
  }
}
