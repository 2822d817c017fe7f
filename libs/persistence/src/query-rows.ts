/**
 * The rows of a raw query result. TypeORM answers UPDATE and DELETE with `[rows, affected]`
 * but every other statement with the rows alone; this hides the difference so
 * `UPDATE … RETURNING` reads like a SELECT: `queryRows<T>(await dataSource.query(sql, params))`.
 */
export function queryRows<T = unknown>(result: unknown): T[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return (Array.isArray(result) ? result : []) as T[];
}
