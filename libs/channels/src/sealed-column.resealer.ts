import { queryRows } from '@herald/persistence';
import type { DataSource } from 'typeorm';
import type { CredentialCipher } from './credentials';

/** Where a tenant row (primary key tenant_id, id) keeps a value sealed by CredentialCipher. */
export interface SealedColumn {
  /** What `herald keys rotate-encryption` calls it in its report. */
  readonly name: string;
  /** Code constants, never input: they are written into the SQL. */
  readonly table: string;
  readonly column: string;
  /** The context the value was sealed with (binds it to its tenant and row). */
  readonly context: (tenantId: string, id: string) => string;
}

export interface TenantRowCursor {
  tenantId: string;
  id: string;
}

interface Row {
  tenant_id: string;
  id: string;
  sealed: string;
}

/**
 * A sealed column re-sealed with the current encryption key, for `herald keys rotate-encryption`
 * while the fleet runs. Each batch is one short transaction that locks the rows it takes and
 * skips those a writer holds (a later pass gets them), and writes a row back only if its
 * ciphertext is still the one it opened: a concurrent write is never overwritten with stale data.
 */
export class SealedColumnResealer {
  readonly name: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: CredentialCipher,
    private readonly column: SealedColumn,
  ) {
    this.name = column.name;
  }

  get currentKeyId(): string {
    return this.cipher.currentKeyId;
  }

  /** Rows by the key id their value records. */
  async census(): Promise<Record<string, number>> {
    const { table, column } = this.column;
    const rows = await this.dataSource.query<{ key_id: string; n: number }[]>(
      `SELECT split_part(${column}, ':', 2) AS key_id, count(*)::int AS n FROM ${table}
        WHERE ${column} IS NOT NULL GROUP BY 1`,
    );
    return Object.fromEntries(rows.map((r) => [r.key_id, r.n]));
  }

  /** Up to `limit` rows after `after` (in key order) whose value another key sealed. */
  async resealBatch(
    after: TenantRowCursor | null,
    limit: number,
  ): Promise<{ resealed: number; next: TenantRowCursor | null }> {
    const { table, column, context } = this.column;
    return this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const rows = await manager.query<Row[]>(
        `SELECT tenant_id, id, ${column} AS sealed FROM ${table}
          WHERE ${column} IS NOT NULL AND split_part(${column}, ':', 2) <> $1
            AND ($2::uuid IS NULL OR (tenant_id, id) > ($2::uuid, $3::uuid))
          ORDER BY tenant_id, id LIMIT $4
          FOR UPDATE SKIP LOCKED`,
        [this.currentKeyId, after?.tenantId ?? null, after?.id ?? null, limit],
      );
      const resealed: (Row & { fresh: string })[] = [];
      for (const row of rows) {
        const bound = context(row.tenant_id, row.id);
        try {
          resealed.push({
            ...row,
            fresh: this.cipher.encrypt(this.cipher.decrypt(row.sealed, bound), bound),
          });
        } catch {
          // A key the ring no longer holds, or a damaged value: left as it is, still counted as remaining.
        }
      }
      const written =
        resealed.length === 0
          ? []
          : queryRows(
              await manager.query(
                `UPDATE ${table} s SET ${column} = v.fresh
                   FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) AS v(tenant_id, id, old, fresh)
                  WHERE s.tenant_id = v.tenant_id AND s.id = v.id AND s.${column} = v.old
                  RETURNING s.id`,
                [
                  resealed.map((r) => r.tenant_id),
                  resealed.map((r) => r.id),
                  resealed.map((r) => r.sealed),
                  resealed.map((r) => r.fresh),
                ],
              ),
            );
      const last = rows.at(-1);
      return {
        resealed: written.length,
        next: rows.length === limit && last ? { tenantId: last.tenant_id, id: last.id } : null,
      };
    });
  }
}
