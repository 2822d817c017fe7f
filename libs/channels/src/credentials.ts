import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyRing, Secret } from '@herald/config';

export class CredentialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialError';
  }
}

export interface CredentialKey {
  /** Stored next to each ciphertext; letters, digits, `_` and `-`. */
  readonly id: string;
  /** 32 bytes. */
  readonly key: Secret<Buffer>;
}

const VERSION = 'v1';
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Sender-account credentials at rest: AES-256-GCM, sealed as
 * `v1:<key id>:<iv b64>:<tag b64>:<ciphertext b64>`. The key id travels with the ciphertext so
 * keys can rotate: new values use the current key; older ones still open with a previous key
 * passed in (`needsRotation` tells which to re-encrypt). The optional `context` (say the sender
 * account id) is authenticated too, so a ciphertext cannot be moved to another account.
 */
export class CredentialCipher {
  private readonly keys = new Map<string, Buffer>();

  constructor(
    private readonly current: CredentialKey,
    previous: readonly CredentialKey[] = [],
  ) {
    for (const k of [current, ...previous]) {
      if (!KEY_ID.test(k.id)) throw new CredentialError(`invalid key id ${JSON.stringify(k.id)}`);
      if (k.key.reveal().length !== 32) throw new CredentialError(`key ${k.id} must be 32 bytes`);
      this.keys.set(k.id, k.key.reveal());
    }
  }

  /** From HERALD_ENCRYPTION_KEY and HERALD_ENCRYPTION_PREVIOUS_KEYS (`config.security`). */
  static fromConfig(security: { encryptionKeys: KeyRing }): CredentialCipher {
    return new CredentialCipher(security.encryptionKeys.current, security.encryptionKeys.previous);
  }

  /** The id new values record. */
  get currentKeyId(): string {
    return this.current.id;
  }

  encrypt(plaintext: string, context = ''): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.current.id)!, iv);
    cipher.setAAD(aad(this.current.id, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      VERSION,
      this.current.id,
      iv.toString('base64'),
      cipher.getAuthTag().toString('base64'),
      ciphertext.toString('base64'),
    ].join(':');
  }

  decrypt(sealed: string, context = ''): string {
    const parts = sealed.split(':');
    const [version, keyId, iv, tag, ciphertext] = parts;
    if (parts.length !== 5 || version !== VERSION || !keyId || !iv || !tag || ciphertext === undefined) {
      throw new CredentialError('not a sealed credential (expected v1:<key id>:<iv>:<tag>:<ciphertext>)');
    }
    const key = this.keys.get(keyId);
    if (!key) {
      throw new CredentialError(
        `credential was sealed with key id ${JSON.stringify(keyId)}, which this process does not have (current: ${JSON.stringify(this.current.id)})`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAAD(aad(keyId, context));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new CredentialError(
        'credential failed authentication: tampered, truncated or sealed for another context',
      );
    }
  }

  encryptJson(value: unknown, context = ''): string {
    return this.encrypt(JSON.stringify(value), context);
  }

  decryptJson(sealed: string, context = ''): unknown {
    return JSON.parse(this.decrypt(sealed, context)) as unknown;
  }

  /** Whether a sealed value uses an older key and should be re-encrypted. */
  needsRotation(sealed: string): boolean {
    return keyIdOf(sealed) !== this.current.id;
  }
}

/** The key id a sealed credential records: its second field (`split_part(credentials, ':', 2)` in SQL). */
function keyIdOf(sealed: string): string | undefined {
  return sealed.split(':')[1];
}

function aad(keyId: string, context: string): Buffer {
  return Buffer.from(`herald:${VERSION}:${keyId}:${context}`, 'utf8');
}
