import { Injectable, type PipeTransform } from '@nestjs/common';
import { isUuid, validate } from '@herald/contacts';
import { decodeCursor, InvalidCursorError, type KeysetPosition } from '@herald/persistence';
import type { z } from 'zod';
import { ProblemException } from './problem';

/** Validates (and normalises) a body or query with zod: 400 problem+json naming each bad field. */
@Injectable()
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(
    private readonly schema: S,
    private readonly part: 'body' | 'query',
  ) {}

  transform(value: unknown): z.output<S> {
    const result = validate(this.schema, this.part === 'query' ? { ...(value as object) } : value);
    if (!result.ok) {
      throw ProblemException.of(
        'validation-failed',
        this.part === 'body' ? 'The request body is invalid.' : 'The query string is invalid.',
        result.errors.map((e) => ({ field: e.field, message: e.message })),
      );
    }
    return result.value;
  }
}

/** A resource id in the path: anything that is not a UUID cannot name one, so it is a 404 like any unknown id. */
@Injectable()
export class IdPipe implements PipeTransform<string, string> {
  constructor(private readonly noun: string) {}

  transform(value: string): string {
    if (!isUuid(value)) throw notFound(this.noun, value);
    return value.toLowerCase();
  }
}

export function notFound(noun: string, id: string): ProblemException {
  const shown = id.length > 64 ? `${id.slice(0, 64)}…` : id;
  return ProblemException.of('not-found', `No ${noun} ${JSON.stringify(shown)}.`);
}

/** The keyset position a `cursor` query value names; 400 when it is not a cursor this API made. */
export function cursorPosition(cursor: string | undefined): KeysetPosition | null {
  if (cursor === undefined) return null;
  try {
    return decodeCursor(cursor);
  } catch (error) {
    if (error instanceof InvalidCursorError) {
      throw ProblemException.of('validation-failed', 'The query string is invalid.', [
        { field: 'cursor', message: 'is not a cursor this API returned' },
      ]);
    }
    throw error;
  }
}
