import fc from 'fast-check';
import { canonicalJson } from './canonical-json';

/** The recursive form this replaced: fingerprints already stored must keep matching. */
function recursive(value: unknown): string {
  if (value === undefined) return '';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(recursive).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${recursive((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

describe('canonicalJson', () => {
  it('writes what the recursive form wrote, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(recursive(value));
      }),
    );
    expect(canonicalJson(undefined)).toBe('');
  });

  it('does not depend on key order', () => {
    expect(canonicalJson({ b: [1, { y: 2, x: null }], a: 'é' })).toBe('{"a":"é","b":[1,{"x":null,"y":2}]}');
    expect(canonicalJson({ a: 'é', b: [1, { x: null, y: 2 }] })).toBe(
      canonicalJson({ b: [1, { y: 2, x: null }], a: 'é' }),
    );
  });

  it('walks a value nested far deeper than the call stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1_000_000; i++) deep = i % 2 ? [deep] : { k: deep };
    expect(() => recursive(deep)).toThrow(RangeError);
    const text = canonicalJson(deep);
    expect(text.length).toBe(1 + 1_000_000 + 500_000 * ('{"k":'.length + '}'.length));
  });
});
