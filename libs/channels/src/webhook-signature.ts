import { createHmac, timingSafeEqual } from 'node:crypto';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` (DESIGN §6). */
export function signWebhook(secret: string, rawBody: string | Buffer, timestampSec: number): string {
  return `t=${timestampSec},v1=${hmac(secret, timestampSec, rawBody)}`;
}

/**
 * Checks an `X-Herald-Signature` header against the raw request body: the HMAC must match
 * (constant-time) and the timestamp be within `toleranceSec` of now (replay protection).
 * Several `v1=` values are accepted (one matching is enough), for secret rotation.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  rawBody: string | Buffer,
  toleranceSec = 300,
  nowSec = Math.floor(Date.now() / 1000),
): boolean {
  if (!header) return false;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === 't' && value && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (name === 'v1' && value && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  if (Math.abs(nowSec - timestamp) > toleranceSec) return false;
  const expected = Buffer.from(hmac(secret, timestamp, rawBody), 'hex');
  return signatures.some((s) => timingSafeEqual(Buffer.from(s, 'hex'), expected));
}

function hmac(secret: string, timestampSec: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestampSec}.`).update(rawBody).digest('hex');
}
