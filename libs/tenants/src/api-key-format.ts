import { createHmac, randomBytes, type KeyObject } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * API keys look like `hk_<prefix>_<secret><checksum>`:
 * - `prefix`: 12 base62 characters, public, stored in clear and used to find the key;
 * - `secret`: 32 base62 characters (about 190 bits) that only the holder knows;
 * - `checksum`: 6 base62 characters of the CRC-32 of everything before it, so a scanner (or
 *   the api, before any database work) can tell a real Herald key from random text.
 */
export const API_KEY_PATTERN = /^hk_([0-9A-Za-z]{12})_([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export interface GeneratedApiKey {
  prefix: string;
  /** The whole key, shown to its owner once. */
  key: string;
}

export function generateApiKey(): GeneratedApiKey {
  const prefix = randomBase62(12);
  const body = `hk_${prefix}_${randomBase62(32)}`;
  return { prefix, key: body + checksum(body) };
}

/** The prefix of a well-formed key whose checksum holds; undefined for anything else. */
export function parseApiKey(presented: string): { prefix: string } | undefined {
  const match = API_KEY_PATTERN.exec(presented);
  if (!match) return undefined;
  const body = presented.slice(0, presented.length - 6);
  return checksum(body) === match[3] ? { prefix: match[1]! } : undefined;
}

/** The keyed hash stored for a key: HMAC-SHA256 with the pepper, so a database dump alone cannot verify guesses. */
export function hashApiKey(pepper: Buffer | KeyObject, key: string): Buffer {
  return createHmac('sha256', pepper).update(key).digest();
}

function checksum(body: string): string {
  let value = crc32(body);
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = ALPHABET[value % 62]! + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** Uniform base62 by rejection sampling (bytes ≥ 248 would bias the modulo). */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
    }
  }
  return out;
}
