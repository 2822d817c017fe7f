import type { HeraldConfig } from '@herald/config';
import type { CookieOptions, Response } from 'express';
import type { AuthenticatedRequest } from '../http/access';
import type { ActiveSession } from './sessions.service';
import { SESSION_COOKIE } from './session-token';

/** Where the console signs in with a key: the one /v1 route the authentication middleware lets through keyless. */
export const SIGN_IN_PATH = '/v1/sessions';

/** A request the authentication middleware admitted by its session cookie. */
export type SessionRequest = AuthenticatedRequest & { consoleSession?: ActiveSession };

/** Whether this is the key sign-in itself (its credential is in the body, checked by the handler). */
export function isKeySignIn(req: { method: string; originalUrl: string }): boolean {
  return req.method === 'POST' && req.originalUrl.split('?')[0] === SIGN_IN_PATH;
}

function cookieOptions(config: HeraldConfig): CookieOptions {
  return {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    // Off only where the api is reached over plain http on purpose (dev and test; SESSION_COOKIE_SECURE).
    secure: config.api.sessions.cookieSecure,
  };
}

/** Sets the session cookie; the browser drops it at the session's absolute end. */
export function setSessionCookie(res: Response, token: string, config: HeraldConfig): void {
  res.cookie(SESSION_COOKIE, token, {
    ...cookieOptions(config),
    maxAge: config.api.sessions.maxAgeSeconds * 1000,
  });
}

export function clearSessionCookie(res: Response, config: HeraldConfig): void {
  res.clearCookie(SESSION_COOKIE, cookieOptions(config));
}
