import { createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { KEY_PURPOSES, KeyRing, KeyRingError, parseRingKey, pepperRing, UNNAMED_KEY_ID } from './key-ring';
import { Secret } from './secret';

const key = (id: string, bytes = randomBytes(32)) => ({ id, key: new Secret(bytes) });

describe('KeyRing', () => {
  it('holds the current key first, then the previous ones, each found by id', () => {
    const [k3, k2, k1] = [key('k3'), key('k2'), key('k1')];
    const ring = new KeyRing(k3, [k2, k1]);
    expect(ring.keys.map((k) => k.id)).toEqual(['k3', 'k2', 'k1']);
    expect(ring.find('k2')).toBe(k2);
    expect(ring.find('k9')).toBeUndefined();
  });

  it('refuses a bad id, a short key, an id twice and one key under two ids', () => {
    const bytes = randomBytes(32);
    expect(() => new KeyRing(key('a:b'))).toThrow(/key id "a:b" must be 1-64 letters/);
    expect(() => new KeyRing(key('k1', randomBytes(16)))).toThrow(/key k1 must be 32 bytes/);
    expect(() => new KeyRing(key('k1'), [key('k2'), key('k1')])).toThrow(/lists key id "k1" twice/);
    expect(() => new KeyRing(key('k2', bytes), [key('k1', bytes)])).toThrow(KeyRingError);
  });

  it('derives one subkey per key and purpose, with the ids kept (the idempotency derivation of old)', () => {
    const k1 = key('k1');
    const derived = new KeyRing(key('k2'), [k1]).derive(KEY_PURPOSES.idempotencyResponses);
    expect(derived.keys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(derived.find('k1')!.key.reveal()).toEqual(
      createHash('sha256').update('herald idempotency v1').update(k1.key.reveal()).digest(),
    );
  });

  it('never prints a key', () => {
    const k1 = key('k1');
    const ring = new KeyRing(key('k2'), [k1]);
    const printed = [String(ring), JSON.stringify({ ring }), inspect({ ring })].join('\n');
    expect(printed).toContain('k2');
    expect(printed).not.toContain(k1.key.reveal().toString('hex'));
    expect(printed).not.toContain(k1.key.reveal().toString('base64'));
  });
});

describe('parseRingKey', () => {
  it('reads `<id>:<hex or base64>`, and a bare key as the id "default"', () => {
    const bytes = randomBytes(32);
    const hex = parseRingKey(`k1:${bytes.toString('hex')}`);
    const bare = parseRingKey(bytes.toString('base64'));
    expect(hex).toMatchObject({ id: 'k1' });
    expect(typeof hex !== 'string' && hex.key.reveal()).toEqual(bytes);
    expect(bare).toMatchObject({ id: UNNAMED_KEY_ID });
    expect(typeof bare !== 'string' && bare.key.reveal()).toEqual(bytes);
  });

  it('says why an entry is refused, without quoting the key', () => {
    const short = randomBytes(16).toString('hex');
    expect(parseRingKey(`k1:${short}`)).toBe(
      '(key k1) must be 32 bytes as 64 hex characters or base64, optionally prefixed with "<key id>:"',
    );
    expect(parseRingKey(`no good:${randomBytes(32).toString('hex')}`)).toMatch(/^has a key id that is not/);
    expect(parseRingKey(short)).not.toContain(short);
  });
});

describe('pepperRing', () => {
  const ring = new KeyRing(key('k2'), [key('k1')]);

  it('is derived from the encryption keys, current first, when no pepper is set', () => {
    const peppers = pepperRing('', [], ring);
    expect(peppers.derived).toBe(true);
    expect(peppers.previous).toHaveLength(1);
    expect(peppers.current.reveal()).toHaveLength(32);
    expect(peppers.current.reveal()).not.toEqual(peppers.previous[0]!.reveal());
    expect(pepperRing('', [], new KeyRing(ring.current)).current.reveal()).toEqual(peppers.current.reveal());
  });

  it('puts an explicit pepper first and keeps each pepper once', () => {
    const p = 'p'.repeat(32);
    const peppers = pepperRing('c'.repeat(32), [p, p], ring);
    expect(peppers.derived).toBe(false);
    expect(peppers.current.reveal().toString()).toBe('c'.repeat(32));
    expect(peppers.previous).toHaveLength(3); // p, then the two derived ones
    expect(peppers.previous[0]!.reveal().toString()).toBe(p);
  });
});
