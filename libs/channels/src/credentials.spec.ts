import { KeyRing, Secret } from '@herald/config';
import { randomBytes } from 'node:crypto';
import { CredentialCipher, CredentialError } from './credentials';

const key = (id: string) => ({ id, key: new Secret(randomBytes(32)) });

describe('CredentialCipher', () => {
  const k1 = key('k1');
  const cipher = new CredentialCipher(k1);

  it('round-trips, with a fresh IV each time, in the v1:<key id>:<iv>:<tag>:<ct> format', () => {
    const a = cipher.encryptJson({ password: 'hunter2' }, 'acct-1');
    const b = cipher.encryptJson({ password: 'hunter2' }, 'acct-1');
    expect(a).toMatch(/^v1:k1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('hunter2');
    expect(cipher.decryptJson(a, 'acct-1')).toEqual({ password: 'hunter2' });
  });

  it('detects tampering with the ciphertext, the tag, the key id or the context', () => {
    const sealed = cipher.encrypt('smtp-password', 'acct-1');
    const [v, id, iv, tag, ct] = sealed.split(':') as [string, string, string, string, string];
    const flip = (b64: string) => {
      const buf = Buffer.from(b64, 'base64');
      buf[0] = (buf[0] ?? 0) ^ 1;
      return buf.toString('base64');
    };
    expect(() => cipher.decrypt([v, id, iv, tag, flip(ct)].join(':'), 'acct-1')).toThrow(CredentialError);
    expect(() => cipher.decrypt([v, id, iv, flip(tag), ct].join(':'), 'acct-1')).toThrow(
      /failed authentication/,
    );
    expect(() => cipher.decrypt(sealed, 'acct-2')).toThrow(/failed authentication/);
    expect(() => cipher.decrypt('garbage', 'acct-1')).toThrow(/not a sealed credential/);
  });

  it('refuses an unknown key id clearly, and rotates with a previous key', () => {
    const sealedWithK1 = cipher.encrypt('old secret');
    const k2Only = new CredentialCipher(key('k2'));
    expect(() => k2Only.decrypt(sealedWithK1)).toThrow(/key id "k1", which this process does not have/);
    const rotated = new CredentialCipher(key('k2'), [k1]);
    expect(rotated.decrypt(sealedWithK1)).toBe('old secret');
    expect(rotated.needsRotation(sealedWithK1)).toBe(true);
    const resealed = rotated.encrypt(rotated.decrypt(sealedWithK1));
    expect(resealed.startsWith('v1:k2:')).toBe(true);
    expect(rotated.needsRotation(resealed)).toBe(false);
  });

  it('builds from the key ring of config.security: seals with the current key, opens with every one', () => {
    const k2 = key('k2');
    const fromConfig = CredentialCipher.fromConfig({ encryptionKeys: new KeyRing(k2, [k1]) });
    expect(fromConfig.currentKeyId).toBe('k2');
    expect(fromConfig.encrypt('x').split(':')[1]).toBe('k2');
    expect(fromConfig.decrypt(cipher.encrypt('sealed with k1', 'acct'), 'acct')).toBe('sealed with k1');
  });

  it('refuses a short key', () => {
    expect(() => new CredentialCipher({ id: 'k', key: new Secret(randomBytes(16)) })).toThrow(/32 bytes/);
  });
});
