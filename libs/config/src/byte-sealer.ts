import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyRing } from './key-ring';

export class SealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealError';
  }
}

/** Sealed before key ids were recorded: `[1][iv 12][tag 16][ciphertext]`, with no id, so any key of the ring may have sealed it. */
const LEGACY = 1;
/** `[2][id length][id][iv 12][tag 16][ciphertext]`, the version byte, length and id authenticated as associated data. */
const WITH_KEY_ID = 2;
const IV = 12;
const TAG = 16;

/**
 * Binary values at rest (stored idempotency responses) sealed with AES-256-GCM under a key ring:
 * each value records the id of the key that sealed it, so it opens after the ring rotates. The
 * layout is also matched in SQL by `herald keys rotate-encryption` (its prefix and id bytes).
 */
export class ByteSealer {
  private readonly prefix: Buffer;

  constructor(private readonly ring: KeyRing) {
    this.prefix = headerFor(ring.current.id);
  }

  seal(plain: string | Buffer): Buffer {
    const iv = randomBytes(IV);
    const cipher = createCipheriv('aes-256-gcm', this.ring.current.key.reveal(), iv);
    cipher.setAAD(this.prefix);
    const data = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([this.prefix, iv, cipher.getAuthTag(), data]);
  }

  open(sealed: Buffer): Buffer {
    if (sealed[0] === LEGACY && sealed.length >= 1 + IV + TAG) {
      // The tag tells the right key from the others; the current key is the likeliest.
      for (const { key } of this.ring.keys) {
        const opened = decrypt(key.reveal(), sealed.subarray(1), undefined);
        if (opened) return opened;
      }
      throw new SealError('sealed value (without a key id) opens with no key of the ring');
    }
    const id = this.keyIdOf(sealed);
    if (id === undefined) throw new SealError('not a sealed value');
    const entry = this.ring.find(id);
    if (!entry) {
      throw new SealError(
        `value was sealed with key id ${JSON.stringify(id)}, which this process does not have (current: ${JSON.stringify(this.ring.current.id)})`,
      );
    }
    const header = sealed.subarray(0, 2 + id.length);
    const opened = decrypt(entry.key.reveal(), sealed.subarray(header.length), header);
    if (!opened)
      throw new SealError(`sealed value failed authentication with key ${id}: tampered or truncated`);
    return opened;
  }

  /** The id a value records; undefined for a legacy value (no id) or anything unrecognised. */
  keyIdOf(sealed: Buffer): string | undefined {
    if (sealed[0] !== WITH_KEY_ID || sealed.length < 2) return undefined;
    const length = sealed[1]!;
    if (length === 0 || sealed.length < 2 + length + IV + TAG) return undefined;
    return sealed.subarray(2, 2 + length).toString('latin1');
  }

  /** Whether the current key sealed it; anything else is for a rotation to re-seal. */
  isCurrent(sealed: Buffer): boolean {
    return sealed.subarray(0, this.prefix.length).equals(this.prefix);
  }

  /** The bytes every value sealed with the current key starts with, so a query can find the others. */
  currentPrefix(): Buffer {
    return Buffer.from(this.prefix);
  }
}

function headerFor(keyId: string): Buffer {
  // Key ids are 1-64 ASCII characters (KEY_ID_PATTERN): one byte each, the length fits a byte.
  return Buffer.concat([Buffer.from([WITH_KEY_ID, keyId.length]), Buffer.from(keyId, 'latin1')]);
}

/** `[iv][tag][ciphertext]` opened, or undefined when the tag does not hold. */
function decrypt(key: Buffer, body: Buffer, aad: Buffer | undefined): Buffer | undefined {
  if (body.length < IV + TAG) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, IV));
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(body.subarray(IV, IV + TAG));
    return Buffer.concat([decipher.update(body.subarray(IV + TAG)), decipher.final()]);
  } catch {
    return undefined;
  }
}
