import { Injectable } from '@nestjs/common';
import { RequestContext } from '@herald/telemetry';
import { AuthThrottle, lockoutProblem } from '../http/auth-throttle';
import { ProblemException } from '../http/problem';
import type { SessionRequest } from './session-cookie';
import { CSRF_HEADER, sessionCookieOf } from './session-token';
import { SessionsService } from './sessions.service';

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * The authentication middleware's cookie path: a request with no key but a `herald_session`
 * cookie acts as the session's key. A write (anything but GET and HEAD) must also carry the
 * session's `X-CSRF-Token`, else 403: SameSite=Strict already keeps other sites' requests from
 * carrying the cookie, and this holds even where SameSite does not.
 */
@Injectable()
export class SessionAuthentication {
  constructor(
    private readonly sessions: SessionsService,
    private readonly throttle: AuthThrottle,
  ) {}

  /** The session cookie's value when the request carries one. */
  cookieOf(req: SessionRequest): string | undefined {
    return sessionCookieOf(req.headers.cookie);
  }

  async admit(req: SessionRequest, cookie: string): Promise<void> {
    // A locked-out address is refused whatever it presents, a cookie included.
    const lockout = await this.throttle.check(this.throttle.attemptOf(req, undefined));
    if (lockout) {
      const { details, headers } = lockoutProblem(lockout);
      throw new ProblemException(details, headers);
    }
    const active = await this.sessions.authenticate(cookie);
    if (!active) {
      // Not counted as a failed authentication: a 256-bit token is not guessed, and a browser
      // holding a stale cookie must not lock its address out.
      throw ProblemException.of(
        'unauthorized',
        'The console session has ended (signed out, expired, or its API key was revoked): sign in again.',
      );
    }
    if (!SAFE_METHODS.has(req.method)) {
      const presented = req.headers[CSRF_HEADER];
      if (!this.sessions.csrfMatches(active, typeof presented === 'string' ? presented : undefined)) {
        throw ProblemException.of(
          'forbidden',
          'A write made with the console session cookie needs the session’s X-CSRF-Token header.',
          [{ field: 'X-CSRF-Token', message: 'is missing or not this session’s token' }],
        );
      }
    }
    req.principal = active.principal;
    req.consoleSession = active;
    if (active.principal.kind === 'tenant') RequestContext.assign({ tenant_id: active.principal.tenantId });
  }
}
