import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The console's session cookie. */
export const SESSION_COOKIE = 'herald_session';

/** The header a cookie-authenticated write must carry. */
export const CSRF_HEADER = 'x-csrf-token';

const SESSION_PREFIX = 'hs_';
const LINK_PREFIX = 'hl_';

/** A new session token (256 random bits); only its hash is stored. */
export function newSessionToken(): string {
  return SESSION_PREFIX + randomBytes(32).toString('base64url');
}

/** A new one-time sign-in link token; only its hash is stored. */
export function newLinkToken(): string {
  return LINK_PREFIX + randomBytes(32).toString('base64url');
}

/** What the database keeps of a token: its SHA-256 (the token has 256 random bits, so no salt or pepper is needed). */
export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * The session's CSRF token, derived from the session token: the same for every tab of one
 * session (a fresh `GET /v1/sessions/current` does not break another tab's writes), and
 * unknowable without the HttpOnly cookie a cross-site page cannot read.
 */
export function csrfTokenOf(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('herald-console-csrf').digest('base64url');
}

/**
 * Binds a platform session to the admin key it was made with: changing HERALD_ADMIN_KEY ends
 * every platform session. Keyed by the session token, so the stored value says nothing about
 * the admin key to someone holding only the database.
 */
export function platformBinding(sessionToken: string, adminKey: string): Buffer {
  return createHmac('sha256', sessionToken).update('herald-console-platform:').update(adminKey).digest();
}

/** Constant-time equality of two hashes (false when their lengths differ). */
export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether a value has the shape of a token this module makes (checked before any lookup). */
export function looksLikeToken(value: string, kind: 'session' | 'link'): boolean {
  const prefix = kind === 'session' ? SESSION_PREFIX : LINK_PREFIX;
  return (
    value.length === prefix.length + 43 && value.startsWith(prefix) && /^[A-Za-z0-9_-]+$/.test(value.slice(3))
  );
}

/**
 * The session cookie's value from a Cookie header. Hand-written: the `cookie` package is only
 * a transitive dependency of express here, and one named value of a header is all this needs.
 */
export function sessionCookieOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return value.length > 0 ? value : undefined;
  }
  return undefined;
}
