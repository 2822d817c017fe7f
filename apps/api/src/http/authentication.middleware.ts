import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { ApiKeyAuthenticator } from '@herald/tenants';
import { RequestContext, ServerPorts } from '@herald/telemetry';
import type { NextFunction, Response } from 'express';
import { PinoLogger } from 'nestjs-pino';
import { createHash, timingSafeEqual } from 'node:crypto';
import { SessionAuthentication } from '../sessions/session-authentication';
import { isProviderEventRequest } from '../provider-events/provider-event-request';
import { isKeySignIn } from '../sessions/session-cookie';
import type { AuthenticatedRequest } from './access';
import { AuthThrottle, lockoutProblem, type AuthAttempt, type Lockout } from './auth-throttle';
import { ProblemException } from './problem';

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="herald"' };

/**
 * Every /v1 request must carry a key (`Authorization: Bearer <key>` or `X-API-Key: <key>`):
 * the platform admin key or a tenant key. Runs before the body is read, so an unauthenticated
 * client cannot make the api parse anything; 401 for missing, malformed, unknown or revoked keys.
 * Failures count against the client's address and the key's prefix (AuthThrottle): past the
 * limit, 429 whatever the key (for a good key, found by the rate limiter's call).
 * The console: with no key but a `herald_session` cookie, the session stands in for its key
 * (SessionAuthentication); `POST /v1/sessions` carries its key in the body and checks it itself.
 */
@Injectable()
export class AuthenticationMiddleware implements NestMiddleware {
  private readonly adminDigest: Buffer;

  constructor(
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly throttle: AuthThrottle,
    private readonly ports: ServerPorts,
    @Inject(HERALD_CONFIG) config: HeraldConfig,
    private readonly logger: PinoLogger,
    private readonly sessions: SessionAuthentication,
  ) {
    this.adminDigest = digest(config.security.adminKey.reveal());
  }

  async use(req: AuthenticatedRequest, _res: Response, next: NextFunction): Promise<void> {
    // The ops port serves no API route (ListenerGuard answers 404): no key is read there, so a
    // request to it learns nothing about keys or routes.
    if (this.ports.listenerOf(req) === 'ops') {
      next();
      return;
    }
    // Console sign-in carries its key in the body; a provider's webhook its signature.
    if (isKeySignIn(req) || isProviderEventRequest(req)) {
      next();
      return;
    }
    const presented = presentedCredential(req);
    const cookie = presented === undefined ? this.sessions.cookieOf(req) : undefined;
    if (cookie !== undefined) {
      await this.sessions.admit(req, cookie);
      next();
      return;
    }
    const attempt = this.throttle.attemptOf(req, presented);
    if (presented === undefined) {
      await this.refuseIfLocked(attempt);
      this.throttle.missing();
      throw ProblemException.of(
        'unauthorized',
        'An API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`.',
        [],
        CHALLENGE,
      );
    }
    const isAdmin = presented.length <= 512 && timingSafeEqual(digest(presented), this.adminDigest);
    if (!isAdmin && attempt.prefix === undefined) {
      // Neither the admin key nor a Herald key: known to fail without a lookup.
      throwIfLocked(await this.throttle.failUnlessLocked(attempt, 'malformed'));
      throw ProblemException.of('unauthorized', 'This is not a Herald API key.', [], CHALLENGE);
    }
    if (isAdmin) {
      req.principal = { kind: 'platform' };
      // Checked for a lockout by the rate limiter, in its one Redis call.
      this.throttle.deferCheck(req, attempt);
      next();
      return;
    }
    let result: Awaited<ReturnType<ApiKeyAuthenticator['authenticate']>>;
    try {
      result = await this.authenticator.authenticate(presented);
    } catch (error) {
      await this.refuseIfLocked(attempt);
      this.logger.error({ err: { message: (error as Error).message } }, 'api key lookup failed');
      throw ProblemException.of(
        'unavailable',
        'Authentication is unavailable right now; retry shortly.',
        [],
        {
          'Retry-After': '1',
        },
      );
    }
    if (!result.ok) {
      // Refused while locked out (the same 429 as any attempt), else counted: one Redis call.
      throwIfLocked(await this.throttle.failUnlessLocked(attempt, result.reason));
      const detail =
        result.reason === 'malformed'
          ? 'This is not a Herald API key.'
          : result.reason === 'revoked'
            ? 'This API key was revoked.'
            : 'Unknown API key.';
      throw ProblemException.of('unauthorized', detail, [], CHALLENGE);
    }
    req.principal = result.principal;
    RequestContext.assign({ tenant_id: result.principal.tenantId });
    // A good key is still refused while its address or prefix is locked out: the rate limiter
    // checks that in the same Redis call as its token bucket.
    this.throttle.deferCheck(req, attempt);
    next();
  }

  private async refuseIfLocked(attempt: AuthAttempt): Promise<void> {
    throwIfLocked(await this.throttle.check(attempt));
  }
}

function throwIfLocked(lockout: Lockout | undefined): void {
  if (!lockout) return;
  const { details, headers } = lockoutProblem(lockout);
  throw new ProblemException(details, headers);
}

/** The key from `Authorization: Bearer …` or `X-API-Key`; a present but unusable header counts as a bad key. */
export function presentedCredential(req: AuthenticatedRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.length > 0) {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(auth);
    return match ? match[1]! : '';
  }
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header.trim();
  return undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
