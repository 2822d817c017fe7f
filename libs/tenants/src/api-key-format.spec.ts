import fc from 'fast-check';
import { API_KEY_PATTERN, generateApiKey, hashApiKey, parseApiKey } from './api-key-format';
import { hasScope } from './principal';

describe('API key format', () => {
  it('generates hk_<prefix>_<secret><checksum> keys that parse back to their prefix', () => {
    const keys = Array.from({ length: 200 }, generateApiKey);
    for (const { key, prefix } of keys) {
      expect(key).toMatch(API_KEY_PATTERN);
      expect(key.startsWith(`hk_${prefix}_`)).toBe(true);
      expect(parseApiKey(key)).toEqual({ prefix });
    }
    expect(new Set(keys.map((k) => k.key)).size).toBe(200);
    expect(new Set(keys.map((k) => k.prefix)).size).toBe(200);
  });

  it('recognises a key with one character changed as not a Herald key (checksum)', () => {
    const { key } = generateApiKey();
    let caught = 0;
    for (let i = 3; i < key.length; i++) {
      if (key[i] === '_') continue;
      const changed = key.slice(0, i) + (key[i] === 'a' ? 'b' : 'a') + key.slice(i + 1);
      if (parseApiKey(changed) === undefined) caught += 1;
    }
    // CRC-32 catches every single-character change.
    expect(caught).toBe(key.length - 3 - 1);
  });

  it('refuses anything that is not shaped like a key', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        expect(parseApiKey(text)).toBeUndefined();
      }),
      { numRuns: 500 },
    );
    expect(parseApiKey('')).toBeUndefined();
    expect(parseApiKey(`${generateApiKey().key} `)).toBeUndefined();
  });

  it('hashes with the pepper: another pepper gives another hash', () => {
    const { key } = generateApiKey();
    const a = hashApiKey(Buffer.from('a'.repeat(32)), key);
    expect(a).toHaveLength(32);
    expect(hashApiKey(Buffer.from('a'.repeat(32)), key).equals(a)).toBe(true);
    expect(hashApiKey(Buffer.from('b'.repeat(32)), key).equals(a)).toBe(false);
  });

  it('nests scopes: admin ⊇ write ⊇ read', () => {
    expect(hasScope(['admin'], 'read')).toBe(true);
    expect(hasScope(['write'], 'read')).toBe(true);
    expect(hasScope(['write'], 'admin')).toBe(false);
    expect(hasScope(['read'], 'write')).toBe(false);
  });
});
