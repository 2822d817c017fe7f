import type { EntityManager } from 'typeorm';
import type { KeysetPosition } from './keyset-cursor';
import { queryRows } from './query-rows';

/** A data source or a transaction's manager: whatever runs the caller's SQL. */
export type Queryable = Pick<EntityManager, 'query'>;

/*
 * Reads and writes of a tenant table keyed (tenant_id, id) with created_at and updated_at, the
 * shape most of Herald's tables share. Table and column names are code constants, never input:
 * they are written into the SQL.
 */

/** One row of the tenant's; `forUpdate` locks it in the caller's transaction. */
export async function findTenantRow<Row>(
  db: Queryable,
  table: string,
  tenantId: string,
  id: string,
  forUpdate = false,
): Promise<Row | undefined> {
  const rows = await db.query<Row[]>(
    `SELECT * FROM ${table} WHERE tenant_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, id],
  );
  return rows[0];
}

/**
 * Up to `limit` of the tenant's rows after `after` in creation order (created_at, id): a keyset
 * page. `where`, when its value is given, keeps only the rows whose column equals it.
 */
export async function tenantRowsAfter<Row>(
  db: Queryable,
  table: string,
  tenantId: string,
  after: KeysetPosition | null,
  limit: number,
  where?: { column: string; value: string | undefined },
): Promise<Row[]> {
  const filtered = where?.value !== undefined;
  return db.query<Row[]>(
    `SELECT * FROM ${table} WHERE tenant_id = $1
        AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
        ${filtered ? `AND ${where.column} = $5` : ''}
      ORDER BY created_at, id LIMIT $4`,
    [
      tenantId,
      after?.createdAt.toISOString() ?? null,
      after?.id ?? null,
      limit,
      ...(filtered ? [where.value] : []),
    ],
  );
}

/** The columns a patch sets: those whose value is given (undefined leaves a column, null clears it). */
export function givenColumns(values: Record<string, unknown>): [column: string, value: unknown][] {
  return Object.entries(values).filter(([, value]) => value !== undefined);
}

/**
 * Sets the given columns of one of the tenant's rows, and updated_at; the row as it is now, or
 * undefined when the tenant has no such row. Give at least one column (see `givenColumns`).
 */
export async function updateTenantRow<Row>(
  db: Queryable,
  table: string,
  tenantId: string,
  id: string,
  columns: readonly (readonly [column: string, value: unknown])[],
): Promise<Row | undefined> {
  const sets = columns.map(([column], i) => `${column} = $${i + 3}`);
  const rows = queryRows<Row>(
    await db.query(
      `UPDATE ${table} SET ${sets.join(', ')}, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING *`,
      [tenantId, id, ...columns.map(([, value]) => value)],
    ),
  );
  return rows[0];
}
