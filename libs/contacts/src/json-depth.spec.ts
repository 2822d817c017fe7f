import fc from 'fast-check';
import { findTooDeep } from './json-depth';

/** How many arrays and objects nest at the deepest point of a value (a scalar: 0), by recursion: fine for small values. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

/** `n` nested containers as text, built without recursion: `[[[…]]]` or `{"k":{"k":…}}`. */
function nested(n: number, kind: 'array' | 'object', inner = 'null'): string {
  return kind === 'array'
    ? `${'['.repeat(n)}${inner}${']'.repeat(n)}`
    : `${'{"k":'.repeat(n)}${inner}${'}'.repeat(n)}`;
}

describe('findTooDeep', () => {
  it('agrees with the depth of any JSON value, whatever the limit', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 1, max: 10 }), (value, max) => {
        const text = JSON.stringify(value);
        expect(findTooDeep(text, max) !== undefined).toBe(depthOf(value) > max);
        expect(findTooDeep(JSON.stringify(value, null, 2), max) !== undefined).toBe(depthOf(value) > max);
      }),
    );
  });

  it('names the first too-deep container by its dotted path (keys and array indexes)', () => {
    const text = JSON.stringify({ email: 'a@x.io', attributes: { ok: [1], a: [0, { b: [[]] }] } });
    expect(findTooDeep(text, 6)).toBeUndefined();
    expect(findTooDeep(text, 5)).toEqual({ path: 'attributes.a.1.b.0' });
    expect(findTooDeep(text, 4)).toEqual({ path: 'attributes.a.1.b' });
    expect(findTooDeep(text, 3)).toEqual({ path: 'attributes.a.1' });
    expect(findTooDeep(text, 2)).toEqual({ path: 'attributes.ok' });
    expect(findTooDeep(text, 1)).toEqual({ path: 'attributes' });
    expect(findTooDeep('[[1], 2, [3, [4]]]', 2)).toEqual({ path: '2.1' });
  });

  it('ignores brackets, braces, commas and quotes inside strings, and decodes escaped keys', () => {
    const text = '{"s": "[[[{{{\\"]]]", "k\\u00e9\\"y": {"x,": [["}}}"]]}}';
    expect(findTooDeep(text, 4)).toBeUndefined();
    expect(findTooDeep(text, 2)).toEqual({ path: 'ké"y.x,' });
  });

  it('scans 10,000 and 1,000,000 levels without recursion, open or closed', () => {
    for (const n of [10_000, 1_000_000]) {
      expect(findTooDeep(nested(n, 'array'), 32)).toEqual({ path: Array(32).fill('0').join('.') });
      expect(findTooDeep('['.repeat(n), 32)).toBeDefined();
      expect(findTooDeep(nested(n, 'object'), 32)).toEqual({ path: Array(32).fill('k').join('.') });
    }
    expect(findTooDeep(nested(32, 'object'), 32)).toBeUndefined();
    expect(findTooDeep(nested(33, 'object'), 32)).toBeDefined();
  });

  it('keeps empty keys in the path', () => {
    expect(findTooDeep('{"":{"":{"":[]}}}', 3)).toEqual({ path: '..' });
    expect(findTooDeep('{"a":{"":{"":[]}}}', 3)).toEqual({ path: 'a..' });
  });

  it('keeps a path of long keys short', () => {
    const key = 'x'.repeat(10_000);
    const text = `${`{"${key}":`.repeat(40)}1${'}'.repeat(40)}`;
    const found = findTooDeep(text, 32)!;
    expect(found.path.length).toBeLessThanOrEqual(203);
    expect(found.path.startsWith(`${'x'.repeat(64)}….`)).toBe(true);
    expect(found.path.endsWith('.…')).toBe(true);
  });

  it('leaves text that is not JSON to the parser', () => {
    for (const text of ['', 'nul', '"open', '}}}]]]', '{"a":', '[1,,2]'])
      expect(findTooDeep(text, 2)).toBeUndefined();
  });
});
