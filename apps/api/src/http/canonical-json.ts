/**
 * A JSON value as text with object keys sorted, so two bodies that differ only in key order match.
 * Iterative (a stack of work to do, not recursion): a body nested deeper than the call stack
 * must not crash the fingerprint, whatever checked it before.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  // Last first: a value still to write, or punctuation to write as is.
  const todo: ({ value: unknown } | string)[] = [{ value }];
  while (todo.length > 0) {
    const next = todo.pop()!;
    if (typeof next === 'string') {
      out.push(next);
      continue;
    }
    const current = next.value;
    if (current === undefined) continue;
    if (current === null || typeof current !== 'object') {
      out.push(JSON.stringify(current));
    } else if (Array.isArray(current)) {
      out.push('[');
      todo.push(']');
      for (let i = current.length - 1; i >= 0; i--) {
        todo.push({ value: current[i] as unknown });
        if (i > 0) todo.push(',');
      }
    } else {
      const keys = Object.keys(current).sort();
      out.push('{');
      todo.push('}');
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        todo.push({ value: (current as Record<string, unknown>)[key] }, `${JSON.stringify(key)}:`);
        if (i > 0) todo.push(',');
      }
    }
  }
  return out.join('');
}
