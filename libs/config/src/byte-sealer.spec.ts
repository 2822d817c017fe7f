import { createCipheriv, randomBytes } from 'node:crypto';
import { ByteSealer, SealError } from './byte-sealer';
import { KeyRing } from './key-ring';
import { Secret } from './secret';

const key = (id: string) => ({ id, key: new Secret(randomBytes(32)) });

/** A value as sealed before key ids were recorded (the api's idempotency seal of old). */
function legacySeal(key: Buffer, plain: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([1]), iv, cipher.getAuthTag(), data]);
}

describe('ByteSealer', () => {
  const k1 = key('k1');
  const k2 = key('k2');
  const beforeRotation = new ByteSealer(new KeyRing(k1));
  const duringRotation = new ByteSealer(new KeyRing(k2, [k1]));
  const afterRotation = new ByteSealer(new KeyRing(k2));

  it('records the key id in each value, with a fresh IV, and opens it', () => {
    const a = beforeRotation.seal('{"key":"hk_secret"}');
    const b = beforeRotation.seal('{"key":"hk_secret"}');
    expect(a.subarray(0, 4)).toEqual(Buffer.from([2, 2, ...Buffer.from('k1')]));
    expect(a).not.toEqual(b);
    expect(a.toString('latin1')).not.toContain('hk_secret');
    expect(beforeRotation.keyIdOf(a)).toBe('k1');
    expect(beforeRotation.open(a).toString()).toBe('{"key":"hk_secret"}');
  });

  it('opens by the recorded id across a rotation, and seals with the current key only', () => {
    const old = beforeRotation.seal('first response');
    expect(duringRotation.open(old).toString()).toBe('first response');
    expect(duringRotation.isCurrent(old)).toBe(false);
    const resealed = duringRotation.seal(duringRotation.open(old));
    expect(duringRotation.keyIdOf(resealed)).toBe('k2');
    expect(duringRotation.isCurrent(resealed)).toBe(true);
    expect(resealed.subarray(0, duringRotation.currentPrefix().length)).toEqual(
      duringRotation.currentPrefix(),
    );
    expect(afterRotation.open(resealed).toString()).toBe('first response');
    expect(() => afterRotation.open(old)).toThrow(/key id "k1", which this process does not have/);
  });

  it('opens a legacy value (no key id) with whichever key of the ring sealed it', () => {
    const legacy = legacySeal(k1.key.reveal(), 'sealed before key ids');
    expect(beforeRotation.keyIdOf(legacy)).toBeUndefined();
    expect(beforeRotation.isCurrent(legacy)).toBe(false);
    expect(beforeRotation.open(legacy).toString()).toBe('sealed before key ids');
    expect(duringRotation.open(legacy).toString()).toBe('sealed before key ids');
    expect(() => afterRotation.open(legacy)).toThrow(/opens with no key of the ring/);
  });

  it('detects tampering with the ciphertext, the tag or the recorded id', () => {
    const sealed = duringRotation.seal('payload');
    const flipped = (at: number) => {
      const copy = Buffer.from(sealed);
      copy[at] = copy[at]! ^ 1;
      return copy;
    };
    expect(() => duringRotation.open(flipped(sealed.length - 1))).toThrow(/failed authentication/);
    expect(() => duringRotation.open(flipped(4 + 12))).toThrow(/failed authentication/);
    // k2 → k3: an id the ring lacks; a relabelled value must not open under another key either.
    expect(() => duringRotation.open(flipped(3))).toThrow(SealError);
    const relabelled = Buffer.concat([Buffer.from([2, 2, ...Buffer.from('k1')]), sealed.subarray(4)]);
    expect(() => duringRotation.open(relabelled)).toThrow(/failed authentication with key k1/);
    expect(() => duringRotation.open(Buffer.from('garbage'))).toThrow(/not a sealed value/);
    expect(() => duringRotation.open(Buffer.alloc(0))).toThrow(SealError);
  });
});
