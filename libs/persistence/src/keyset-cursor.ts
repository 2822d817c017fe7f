/**
 * Opaque keyset cursors for lists ordered by (created_at, id): base64url of a small JSON tuple.
 * Clients treat them as opaque; the server refuses anything it did not make.
 */
export interface KeysetPosition {
  createdAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class InvalidCursorError extends Error {
  constructor() {
    super('cursor is not one this API returned');
    this.name = 'InvalidCursorError';
  }
}

export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([1, position.createdAt.getTime(), position.id])).toString('base64url');
}

/** Throws InvalidCursorError for anything that is not a cursor made by encodeCursor. */
export function decodeCursor(cursor: string): KeysetPosition {
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (
    !Array.isArray(value) ||
    value.length !== 3 ||
    value[0] !== 1 ||
    typeof value[1] !== 'number' ||
    !Number.isSafeInteger(value[1]) ||
    value[1] < 0 ||
    typeof value[2] !== 'string' ||
    !UUID.test(value[2])
  ) {
    throw new InvalidCursorError();
  }
  return { createdAt: new Date(value[1]), id: value[2] };
}

/** Lists answer `{ data, next_cursor }`: fetch limit + 1 rows and call this. */
export function keysetPage<T extends KeysetPosition>(
  rows: T[],
  limit: number,
): { rows: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const page = rows.slice(0, limit);
  return { rows: page, nextCursor: encodeCursor(page[page.length - 1]!) };
}
