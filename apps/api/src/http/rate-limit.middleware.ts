import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { REDIS, RedisKeys } from '@herald/queues';
import { ApiKeyAuthenticator, revokedKeyMarker } from '@herald/tenants';
import type { NextFunction, Response } from 'express';
import type { Redis } from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import { createHash } from 'node:crypto';
import type { AuthenticatedRequest } from './access';
import { AuthThrottle, LOCKOUT_CHECK_LUA, lockoutProblem, type Lockout } from './auth-throttle';
import { presentedCredential } from './authentication.middleware';
import { ProblemException } from './problem';

/**
 * Token bucket per key, in one atomic script on Redis' own clock (so every api replica shares
 * the bucket and no replica's clock matters). On the way it makes the authenticated request's
 * failed-authentication lockout check (AuthThrottle), and reports whether the key carries a
 * revocation marker: one round trip per request for all three.
 * KEYS: the bucket, then (when ARGV[3] is 1) the revocation marker, then the lockout buckets.
 * ARGV: rate, burst, has marker, lockout window ms, lockout bucket count, their limits.
 * Returns {allowed, tokens left, ms until a token, revoked, lockout wait ms, locked bucket (-1 none)};
 * a locked-out request takes no token.
 */
const TOKEN_BUCKET = `${LOCKOUT_CHECK_LUA}
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local hasMarker = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lockWait, locked = lockout(2 + hasMarker, tonumber(ARGV[5]), 6, tonumber(ARGV[4]), now)
if locked >= 0 then return {0, 0, 0, 0, lockWait, locked} end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
local revoked = 0
if hasMarker == 1 then revoked = redis.call('EXISTS', KEYS[2]) end
return {allowed, math.floor(tokens), wait, revoked, 0, -1}
`;
const TOKEN_BUCKET_SHA = createHash('sha1').update(TOKEN_BUCKET).digest('hex');

type Verdict = [number, number, number, number, number, number];

/** Per-key request limit (API_RATE_LIMIT_PER_SECOND, API_RATE_LIMIT_BURST); 429 with Retry-After when spent. */
@Injectable()
export class RateLimitMiddleware implements NestMiddleware {
  private lastWarning = 0;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly throttle: AuthThrottle,
    private readonly logger: PinoLogger,
  ) {}

  async use(req: AuthenticatedRequest, res: Response, next: NextFunction): Promise<void> {
    const { perSecond, burst } = this.config.api.rateLimit;
    const principal = req.principal;
    const attempt = this.throttle.takeDeferred(req);
    if (perSecond === 0 || !principal) {
      // No bucket to take from: the lockout check is a call of its own.
      if (attempt) throwIfLocked(await this.throttle.check(attempt));
      next();
      return;
    }
    const lockoutBuckets = attempt ? this.throttle.bucketsOf(attempt) : [];
    const subject = principal.kind === 'tenant' ? `key:${principal.keyId}` : 'platform';
    const redisKeys = [this.keys.key('ratelimit', subject)];
    if (principal.kind === 'tenant') redisKeys.push(revokedKeyMarker(this.keys, principal.keyId));
    redisKeys.push(...lockoutBuckets.map((b) => b.key));
    let verdict: Verdict;
    try {
      verdict = await this.run(redisKeys, [
        perSecond,
        burst,
        principal.kind === 'tenant' ? 1 : 0,
        this.config.api.authFailures.windowMs,
        lockoutBuckets.length,
        ...lockoutBuckets.map((b) => b.limit),
      ]);
    } catch (error) {
      // Fail open: losing Redis must not take the API down with it; say so in the logs.
      if (Date.now() - this.lastWarning > 10_000) {
        this.lastWarning = Date.now();
        this.logger.warn(
          { err: { message: (error as Error).message } },
          'rate limit unavailable: allowing requests',
        );
      }
      next();
      return;
    }
    const [allowed, remaining, waitMs, revoked, lockWaitMs, locked] = verdict;
    throwIfLocked(this.throttle.lockoutOf(lockoutBuckets, lockWaitMs, locked));
    if (revoked === 1 && principal.kind === 'tenant') {
      // Revoked on another replica: drop what this one remembers and check again.
      this.authenticator.evict(principal.keyId);
      const again = await this.authenticator.authenticate(presentedCredential(req) ?? '');
      if (!again.ok) throw ProblemException.of('unauthorized', 'This API key was revoked.');
    }
    res.setHeader('RateLimit-Limit', String(burst));
    res.setHeader('RateLimit-Remaining', String(Math.max(0, remaining)));
    if (allowed !== 1) {
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      throw ProblemException.of(
        'rate-limited',
        `This API key made too many requests: retry in ${seconds} s (limit ${perSecond}/s, burst ${burst}).`,
        [],
        { 'Retry-After': String(seconds), 'RateLimit-Reset': String(seconds) },
      );
    }
    next();
  }

  private async run(keys: string[], args: number[]): Promise<Verdict> {
    try {
      return (await this.redis.evalsha(TOKEN_BUCKET_SHA, keys.length, ...keys, ...args)) as Verdict;
    } catch (error) {
      if (!(error as Error).message.startsWith('NOSCRIPT')) throw error;
      return (await this.redis.eval(TOKEN_BUCKET, keys.length, ...keys, ...args)) as Verdict;
    }
  }
}

function throwIfLocked(lockout: Lockout | undefined): void {
  if (!lockout) return;
  const { details, headers } = lockoutProblem(lockout);
  throw new ProblemException(details, headers);
}
