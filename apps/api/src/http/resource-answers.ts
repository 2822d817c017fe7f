import { keysetPage, type KeysetPosition } from '@herald/persistence';
import { cursorPosition, notFound } from './validation.pipes';

/** What a list route answers: a page of views and the cursor of the next one (null on the last). */
export interface ListAnswer<V> {
  data: V[];
  next_cursor: string | null;
}

/** The page's views, from rows fetched one beyond `limit` (that one says whether a next page exists). */
export function keysetAnswer<T extends KeysetPosition, V>(
  rows: T[],
  limit: number,
  view: (row: T) => V,
): ListAnswer<V> {
  const page = keysetPage(rows, limit);
  return { data: page.rows.map(view), next_cursor: page.nextCursor };
}

/**
 * A list route's answer for a `pageQuery`: `fetch` reads up to `limit` rows after the cursor's
 * position (400 for a cursor this API did not make) in creation order.
 */
export async function listAnswer<T extends KeysetPosition, V>(
  query: { limit?: number | undefined; cursor?: string | undefined },
  fetch: (after: KeysetPosition | null, limit: number) => Promise<T[]>,
  view: (row: T) => V,
  defaultLimit = 50,
): Promise<ListAnswer<V>> {
  const limit = query.limit ?? defaultLimit;
  return keysetAnswer(await fetch(cursorPosition(query.cursor), limit + 1), limit, view);
}

/** The tenant's resource, or a 404 naming it. */
export function found<T>(resource: T | null | undefined, noun: string, id: string): T {
  if (resource === null || resource === undefined) throw notFound(noun, id);
  return resource;
}
