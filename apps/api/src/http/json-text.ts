import { findJsonTextProblem, jsonTextMessage } from '@herald/contacts';
import { ProblemException } from './problem';

/**
 * 400 (validation-failed, naming the field) when a JSON body nests arrays and objects deeper than
 * `maxDepth` or holds a string Postgres cannot store. Checked on the text, before JSON.parse, zod,
 * the idempotency fingerprint or Postgres see the value: each of them failed on such bodies with
 * a stack overflow or a database error, and so a 500.
 */
export function checkJsonText(text: string, maxDepth: number): void {
  const found = findJsonTextProblem(text, maxDepth);
  if (!found) return;
  throw ProblemException.of(
    'validation-failed',
    found.kind === 'too-deep'
      ? `The request body nests arrays and objects deeper than ${maxDepth} levels.`
      : 'The request body holds a string Herald cannot store.',
    [{ field: found.path, message: jsonTextMessage(found.kind, maxDepth) }],
  );
}
