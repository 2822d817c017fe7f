import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { REDIS, RedisKeys } from '@herald/queues';
import { ApiKeyAuthenticator, revokedKeyMarker } from '@herald/tenants';
import type { NextFunction, Response } from 'express';
import type { Redis } from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import { createHash } from 'node:crypto';
import type { AuthenticatedRequest } from './access';
import { presentedCredential } from './authentication.middleware';
import { ProblemException } from './problem';

/**
 * Token bucket per key, in one atomic script on Redis' own clock (so every api replica shares
 * the bucket and no replica's clock matters). Also reports whether the key carries a revocation
 * marker, so revocation reaches every replica without an extra round trip.
 * Returns {allowed, tokens left, ms until a token, revoked}.
 */
const TOKEN_BUCKET = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
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
if #KEYS > 1 then revoked = redis.call('EXISTS', KEYS[2]) end
return {allowed, math.floor(tokens), wait, revoked}
`;
const TOKEN_BUCKET_SHA = createHash('sha1').update(TOKEN_BUCKET).digest('hex');

/** Per-key request limit (API_RATE_LIMIT_PER_SECOND, API_RATE_LIMIT_BURST); 429 with Retry-After when spent. */
@Injectable()
export class RateLimitMiddleware implements NestMiddleware {
  private lastWarning = 0;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly logger: PinoLogger,
  ) {}

  async use(req: AuthenticatedRequest, res: Response, next: NextFunction): Promise<void> {
    const { perSecond, burst } = this.config.api.rateLimit;
    const principal = req.principal;
    if (perSecond === 0 || !principal) {
      next();
      return;
    }
    const subject = principal.kind === 'tenant' ? `key:${principal.keyId}` : 'platform';
    const redisKeys = [this.keys.key('ratelimit', subject)];
    if (principal.kind === 'tenant') redisKeys.push(revokedKeyMarker(this.keys, principal.keyId));
    let verdict: [number, number, number, number];
    try {
      verdict = await this.run(redisKeys, perSecond, burst);
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
    const [allowed, remaining, waitMs, revoked] = verdict;
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

  private async run(
    keys: string[],
    perSecond: number,
    burst: number,
  ): Promise<[number, number, number, number]> {
    try {
      return (await this.redis.evalsha(TOKEN_BUCKET_SHA, keys.length, ...keys, perSecond, burst)) as [
        number,
        number,
        number,
        number,
      ];
    } catch (error) {
      if (!(error as Error).message.startsWith('NOSCRIPT')) throw error;
      return (await this.redis.eval(TOKEN_BUCKET, keys.length, ...keys, perSecond, burst)) as [
        number,
        number,
        number,
        number,
      ];
    }
  }
}
