import { createHash, hkdfSync } from 'node:crypto';
import { inspect } from 'node:util';
import { Secret } from './secret';

/** A key id travels in clear with every value the key seals: short, and safe in any envelope. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The id of a key configured without one (`HERALD_ENCRYPTION_KEY=<64 hex>`): values sealed
 * with such a key have always recorded this id, so the same bare value keeps opening them
 * wherever it is listed.
 */
export const UNNAMED_KEY_ID = 'default';

/**
 * Subkeys derived from the ring for one use each. Never change a value: what was sealed under
 * it would no longer open.
 */
export const KEY_PURPOSES = {
  /** Stored `Idempotency-Key` responses (the api seals them, `herald keys rotate-encryption` re-seals them). */
  idempotencyResponses: 'herald idempotency v1',
  /** HMAC of the links in emails (unsubscribe, open pixel, click redirect): never sealed, only signed. */
  publicLinks: 'herald public links v1',
} as const;

export type KeyPurpose = (typeof KEY_PURPOSES)[keyof typeof KEY_PURPOSES];

export interface RingKey {
  readonly id: string;
  /** 32 bytes (AES-256). */
  readonly key: Secret<Buffer>;
}

export class KeyRingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyRingError';
  }
}

/**
 * The encryption keys of the fleet: the current one seals, every one opens what it sealed. A
 * rotation adds a new current key, re-seals what the old ones sealed, then drops them.
 * Prints as its key ids only.
 */
export class KeyRing {
  readonly previous: readonly RingKey[];
  private readonly byId = new Map<string, RingKey>();

  constructor(
    readonly current: RingKey,
    previous: readonly RingKey[] = [],
  ) {
    this.previous = [...previous];
    const seen: RingKey[] = [];
    for (const entry of [current, ...previous]) {
      if (!KEY_ID_PATTERN.test(entry.id)) {
        throw new KeyRingError(`key id ${JSON.stringify(entry.id)} must be 1-64 letters, digits, _ or -`);
      }
      if (entry.key.reveal().length !== 32) throw new KeyRingError(`key ${entry.id} must be 32 bytes`);
      if (this.byId.has(entry.id)) throw new KeyRingError(`lists key id ${JSON.stringify(entry.id)} twice`);
      const twin = seen.find((other) => other.key.reveal().equals(entry.key.reveal()));
      if (twin) {
        throw new KeyRingError(
          `holds one key under two ids (${JSON.stringify(twin.id)} and ${JSON.stringify(entry.id)})`,
        );
      }
      seen.push(entry);
      this.byId.set(entry.id, entry);
    }
  }

  /** Current first, then the previous keys in the order configured. */
  get keys(): readonly RingKey[] {
    return [this.current, ...this.previous];
  }

  find(id: string): RingKey | undefined {
    return this.byId.get(id);
  }

  /**
   * The same ids with a subkey per key for one purpose: SHA-256 of the purpose then the key,
   * the derivation stored idempotency responses have always used.
   */
  derive(purpose: KeyPurpose): KeyRing {
    const sub = (entry: RingKey): RingKey => ({
      id: entry.id,
      key: new Secret(createHash('sha256').update(purpose).update(entry.key.reveal()).digest()),
    });
    return new KeyRing(sub(this.current), this.previous.map(sub));
  }

  toString(): string {
    return `KeyRing(current ${this.current.id}${this.previous.map((k) => `, ${k.id}`).join('')})`;
  }

  toJSON(): { current: string; previous: string[] } {
    return { current: this.current.id, previous: this.previous.map((k) => k.id) };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** The HMAC keys of stored API key hashes: new hashes use `current`; a hash made with a previous one still verifies. */
export interface PepperRing {
  readonly current: Secret<Buffer>;
  readonly previous: readonly Secret<Buffer>[];
  /** No API_KEY_PEPPER: the current pepper is derived from the current encryption key. */
  readonly derived: boolean;
}

/**
 * The pepper ring from API_KEY_PEPPER and API_KEY_PREVIOUS_PEPPERS. Without an explicit pepper
 * the current one is derived from the current encryption key (as it always was). The peppers
 * derived from every key of the encryption ring are always accepted after the configured ones,
 * so neither rotating the encryption key nor setting API_KEY_PEPPER for the first time locks
 * out a key hashed before: it is re-hashed with the current pepper on its next use.
 */
export function pepperRing(
  explicit: string,
  previousExplicit: readonly string[],
  encryptionKeys: KeyRing,
): PepperRing {
  const derived = encryptionKeys.keys.map((k) => derivedPepper(k.key.reveal()));
  const current = explicit ? Buffer.from(explicit, 'utf8') : derived[0]!;
  const previous = [...previousExplicit.map((p) => Buffer.from(p, 'utf8')), ...derived].filter(
    (pepper, i, all) => !pepper.equals(current) && all.findIndex((other) => other.equals(pepper)) === i,
  );
  return { current: new Secret(current), previous: previous.map((p) => new Secret(p)), derived: !explicit };
}

function derivedPepper(encryptionKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'herald api key pepper v1', 32));
}

/** 32 bytes written as 64 hex characters or base64, or undefined. */
export function decodeKey(value: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(value)) {
    const buf = Buffer.from(value, 'base64');
    return buf.length === 32 ? buf : undefined;
  }
  return undefined;
}

/** An entry `[<key id>:]<key>`; the reason it is refused otherwise (never quoting the key). */
export function parseRingKey(text: string): RingKey | string {
  const colon = text.indexOf(':');
  const id = colon === -1 ? UNNAMED_KEY_ID : text.slice(0, colon);
  const material = colon === -1 ? text : text.slice(colon + 1);
  if (!KEY_ID_PATTERN.test(id)) return `has a key id that is not 1-64 letters, digits, _ or -`;
  const key = decodeKey(material);
  if (!key) {
    return `${colon === -1 ? '' : `(key ${id}) `}must be 32 bytes as 64 hex characters or base64, optionally prefixed with "<key id>:"`;
  }
  return { id, key: new Secret(key) };
}
