import { findTooDeep, tooDeepMessage } from '@herald/contacts';
import { ProblemException } from './problem';

/**
 * 400 (validation-failed, naming the too-deep field) when a JSON body nests arrays and objects
 * deeper than `maxDepth`. Checked on the text, before JSON.parse, zod, the idempotency fingerprint
 * or Postgres recurse over the value: any of them would overflow the stack on a deep enough body.
 */
export function requireJsonDepth(text: string, maxDepth: number): void {
  const found = findTooDeep(text, maxDepth);
  if (!found) return;
  throw ProblemException.of(
    'validation-failed',
    `The request body nests arrays and objects deeper than ${maxDepth} levels.`,
    [{ field: found.path, message: tooDeepMessage(maxDepth) }],
  );
}
