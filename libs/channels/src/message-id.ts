import { createHash } from 'node:crypto';

/** First 32 hex characters of SHA-256(delivery key): stable per key, reveals nothing of it. */
export function deliveryKeyDigest(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32);
}

/** The Message-ID of a delivery: a resend of the same key carries the same id, so it is recognisable. */
export function messageIdFor(idempotencyKey: string): string {
  return `<${deliveryKeyDigest(idempotencyKey)}@herald>`;
}
