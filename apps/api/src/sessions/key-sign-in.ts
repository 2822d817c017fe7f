import { Inject, Injectable } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { ApiKeyAuthenticator, type Principal } from '@herald/tenants';
import type { Request } from 'express';
import { PinoLogger } from 'nestjs-pino';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthThrottle, lockoutProblem, type Lockout } from '../http/auth-throttle';
import { ProblemException } from '../http/problem';

/**
 * Verifies the key a sign-in sends in its body, exactly as the authentication middleware does
 * for a key in a header (same answers, same failed-authentication lockout per address and key
 * prefix). A separate copy because the middleware reads headers before any body exists; keep
 * the two in step.
 */
@Injectable()
export class KeySignIn {
  private readonly adminDigest: Buffer;

  constructor(
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly throttle: AuthThrottle,
    @Inject(HERALD_CONFIG) config: HeraldConfig,
    private readonly logger: PinoLogger,
  ) {
    this.adminDigest = digest(config.security.adminKey.reveal());
  }

  async verify(req: Request, presented: string): Promise<Principal> {
    const attempt = this.throttle.attemptOf(req, presented);
    const isAdmin = presented.length <= 512 && timingSafeEqual(digest(presented), this.adminDigest);
    if (!isAdmin && attempt.prefix === undefined) {
      throwIfLocked(await this.throttle.failUnlessLocked(attempt, 'malformed'));
      throw unauthorized('This is not a Herald API key.');
    }
    throwIfLocked(await this.throttle.check(attempt));
    if (isAdmin) return { kind: 'platform' };
    let result: Awaited<ReturnType<ApiKeyAuthenticator['authenticate']>>;
    try {
      result = await this.authenticator.authenticate(presented);
    } catch (error) {
      this.logger.error({ err: { message: (error as Error).message } }, 'api key lookup failed');
      throw ProblemException.of('unavailable', 'Sign-in is unavailable right now; retry shortly.', [], {
        'Retry-After': '1',
      });
    }
    if (!result.ok) {
      await this.throttle.fail(attempt, result.reason);
      throw unauthorized(
        result.reason === 'malformed'
          ? 'This is not a Herald API key.'
          : result.reason === 'revoked'
            ? 'This API key was revoked.'
            : 'Unknown API key.',
      );
    }
    return result.principal;
  }
}

function unauthorized(detail: string): ProblemException {
  return ProblemException.of('unauthorized', detail, [{ field: 'key', message: 'is not a usable key' }]);
}

function throwIfLocked(lockout: Lockout | undefined): void {
  if (!lockout) return;
  const { details, headers } = lockoutProblem(lockout);
  throw new ProblemException(details, headers);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
