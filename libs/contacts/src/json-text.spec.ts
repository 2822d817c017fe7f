import fc from 'fast-check';
import { findJsonTextProblem, jsonTextMessage } from './json-text';

/** How many arrays and objects nest at the deepest point of a value (a scalar: 0), by recursion: fine for small values. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

/** Whether any key or string holds something Postgres cannot store. */
function unstorable(value: unknown): boolean {
  const bad = (s: string) => s.includes('\u0000') || !s.isWellFormed();
  if (typeof value === 'string') return bad(value);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(unstorable);
  return Object.entries(value).some(([k, v]) => bad(k) || unstorable(v));
}

/** `n` nested containers as text, built without recursion: `[[[…]]]` or `{"k":{"k":…}}`. */
function nested(n: number, kind: 'array' | 'object', inner = 'null'): string {
  return kind === 'array'
    ? `${'['.repeat(n)}${inner}${']'.repeat(n)}`
    : `${'{"k":'.repeat(n)}${inner}${'}'.repeat(n)}`;
}

describe('findJsonTextProblem', () => {
  it('agrees with the depth of any JSON value, whatever the limit', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 1, max: 10 }), (value, max) => {
        const tooDeep = depthOf(value) > max;
        expect(findJsonTextProblem(JSON.stringify(value), max)?.kind).toBe(tooDeep ? 'too-deep' : undefined);
        expect(findJsonTextProblem(JSON.stringify(value, null, 2), max)?.kind).toBe(
          tooDeep ? 'too-deep' : undefined,
        );
      }),
    );
  });

  it('finds NUL and unpaired surrogates in any key or string, escaped as JSON.stringify writes them', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }), (value) => {
        const found = findJsonTextProblem(JSON.stringify(value), 100);
        expect(found !== undefined).toBe(unstorable(value));
        expect(['nul', 'lone-surrogate', undefined]).toContain(found?.kind);
      }),
    );
  });

  it('names the first too-deep container by its dotted path (keys and array indexes)', () => {
    const text = JSON.stringify({ email: 'a@x.io', attributes: { ok: [1], a: [0, { b: [[]] }] } });
    expect(findJsonTextProblem(text, 6)).toBeUndefined();
    expect(findJsonTextProblem(text, 5)).toEqual({ kind: 'too-deep', path: 'attributes.a.1.b.0' });
    expect(findJsonTextProblem(text, 4)).toEqual({ kind: 'too-deep', path: 'attributes.a.1.b' });
    expect(findJsonTextProblem(text, 3)).toEqual({ kind: 'too-deep', path: 'attributes.a.1' });
    expect(findJsonTextProblem(text, 2)).toEqual({ kind: 'too-deep', path: 'attributes.ok' });
    expect(findJsonTextProblem(text, 1)).toEqual({ kind: 'too-deep', path: 'attributes' });
    expect(findJsonTextProblem('[[1], 2, [3, [4]]]', 2)).toEqual({ kind: 'too-deep', path: '2.1' });
  });

  it('names the string (or the key) that holds a NUL or an unpaired surrogate', () => {
    const at = (text: string) => findJsonTextProblem(text, 32);
    expect(at('{"a":[1,"ok","x\\u0000"]}')).toEqual({ kind: 'nul', path: 'a.2' });
    expect(at('{"a":{"b\\u0000":1}}')).toEqual({ kind: 'nul', path: 'a.b\u0000' });
    expect(at('{"a":"\\ud800"}')).toEqual({ kind: 'lone-surrogate', path: 'a' });
    expect(at('{"a":"\\udc00\\ud800"}')).toEqual({ kind: 'lone-surrogate', path: 'a' });
    expect(at('{"a":"x\\uD83Dy"}')).toEqual({ kind: 'lone-surrogate', path: 'a' });
    expect(at('["\ud800"]')).toEqual({ kind: 'lone-surrogate', path: '0' });
    expect(at('"\\u0000"')).toEqual({ kind: 'nul', path: '' });
    // Pairs, escaped, raw or mixed, are characters like any other; so are \\u0000 spelt with an escaped backslash.
    for (const text of [
      '["\\ud83d\\ude00", "😀", "\\ud83d\ude00", "\\\\u0000", "\\u00e9\\n\\"\\\\"]',
      '{"\\uD83D\\uDE00":1}',
    ])
      expect(at(text)).toBeUndefined();
  });

  it('ignores brackets, braces, commas and quotes inside strings, and decodes escaped keys', () => {
    const text = '{"s": "[[[{{{\\"]]]", "k\\u00e9\\"y": {"x,": [["}}}"]]}}';
    expect(findJsonTextProblem(text, 4)).toBeUndefined();
    expect(findJsonTextProblem(text, 2)).toEqual({ kind: 'too-deep', path: 'ké"y.x,' });
  });

  it('scans 10,000 and 1,000,000 levels without recursion, open or closed', () => {
    for (const n of [10_000, 1_000_000]) {
      expect(findJsonTextProblem(nested(n, 'array'), 32)).toEqual({
        kind: 'too-deep',
        path: Array(32).fill('0').join('.'),
      });
      expect(findJsonTextProblem('['.repeat(n), 32)?.kind).toBe('too-deep');
      expect(findJsonTextProblem(nested(n, 'object'), 32)).toEqual({
        kind: 'too-deep',
        path: Array(32).fill('k').join('.'),
      });
    }
    expect(findJsonTextProblem(nested(32, 'object'), 32)).toBeUndefined();
    expect(findJsonTextProblem(nested(33, 'object'), 32)?.kind).toBe('too-deep');
  });

  it('keeps empty keys in the path', () => {
    expect(findJsonTextProblem('{"":{"":{"":[]}}}', 3)).toEqual({ kind: 'too-deep', path: '..' });
    expect(findJsonTextProblem('{"a":{"":{"":[]}}}', 3)).toEqual({ kind: 'too-deep', path: 'a..' });
  });

  it('keeps a path of long keys short', () => {
    const key = 'x'.repeat(10_000);
    const text = `${`{"${key}":`.repeat(40)}1${'}'.repeat(40)}`;
    const found = findJsonTextProblem(text, 32)!;
    expect(found.path.length).toBeLessThanOrEqual(203);
    expect(found.path.startsWith(`${'x'.repeat(64)}….`)).toBe(true);
    expect(found.path.endsWith('.…')).toBe(true);
  });

  it('leaves text that is not JSON to the parser', () => {
    for (const text of ['', 'nul', '"open', '}}}]]]', '{"a":', '[1,,2]', '"\\u00"', '"\\'])
      expect(findJsonTextProblem(text, 2)).toBeUndefined();
  });

  it('says what is wrong in words a client can act on', () => {
    expect(jsonTextMessage('too-deep', 32)).toBe('is nested deeper than 32 levels of arrays and objects');
    expect(jsonTextMessage('nul', 32)).toMatch(/NUL/);
    expect(jsonTextMessage('lone-surrogate', 32)).toMatch(/surrogate/);
  });
});
