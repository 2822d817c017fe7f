import { LIMITS } from './contact-fields';

/** `current` with `changes` applied key by key: a value sets its key, null removes it. */
export function mergeAttributes(
  current: Readonly<Record<string, unknown>>,
  changes: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/**
 * Why attributes that came out of a merge break the caps a body's own attributes are held to
 * (LIMITS.attributeKeys keys, LIMITS.attributesBytes of JSON), or undefined. Each change may be
 * within the caps and the stored contact too, and the merge still not: PATCH and the import
 * check the result, the same way.
 */
export function mergedAttributesProblem(merged: Readonly<Record<string, unknown>>): string | undefined {
  const keys = Object.keys(merged).length;
  if (keys > LIMITS.attributeKeys)
    return `would have ${keys} keys after merging (at most ${LIMITS.attributeKeys})`;
  const bytes = Buffer.byteLength(JSON.stringify(merged));
  if (bytes > LIMITS.attributesBytes)
    return `would be ${bytes} bytes as JSON after merging (at most ${LIMITS.attributesBytes})`;
  return undefined;
}
