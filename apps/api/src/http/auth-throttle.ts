import { Inject, Injectable } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { REDIS, RedisKeys } from '@herald/queues';
import { parseApiKey } from '@herald/tenants';
import { HeraldLogger, HeraldMetrics } from '@herald/telemetry';
import type { Request } from 'express';
import type { Redis } from 'ioredis';
import { createHash, randomUUID } from 'node:crypto';
import { addressBucket } from './client-address';
import { problem, type ProblemDetails } from './problem';

/** Why an authentication failed (the metric's bounded label). */
export type AuthFailureReason = 'missing' | 'malformed' | 'unknown' | 'revoked' | 'not_admin_key';
export type ThrottleScope = 'address' | 'prefix';

/** Who is trying: the client's address (and its bucket) and, for a well-formed Herald key, its public prefix. Never the key. */
export interface AuthAttempt {
  readonly address: string;
  readonly bucket: string;
  readonly prefix: string | undefined;
}

export interface Lockout {
  readonly scope: ThrottleScope;
  readonly retryAfterSeconds: number;
}

const CHECK = 0;
const ATTEMPT = 1;
const RECORD = 2;

/**
 * Sliding-window failure log per bucket (a sorted set of failure times), in one atomic script
 * on Redis' own clock, shared by every api replica. KEYS are the buckets; ARGV: mode, window
 * (ms), a unique member for this failure, then each bucket's limit.
 * CHECK reports the lockout; ATTEMPT reports it or, when there is none, records the failure;
 * RECORD records the failure. Returns {ms until an attempt is allowed (0 if it is), locked
 * bucket (1-based, 0 if none), then per bucket 1 if this failure reached its limit}.
 * Each set keeps at most `limit` entries and expires one window after its last failure.
 */
const FAILURE_WINDOW = `
local mode = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
local locked = 0
local counts = {}
for i = 1, #KEYS do
  local limit = tonumber(ARGV[3 + i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[i])
  counts[i] = count
  if count >= limit then
    local edge = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    local left = tonumber(edge[2]) + window - now
    if left > wait then
      wait = left
      locked = i
    end
  end
end
local result = {wait, locked}
if mode == 2 or (mode == 1 and locked == 0) then
  for i = 1, #KEYS do
    local limit = tonumber(ARGV[3 + i])
    redis.call('ZADD', KEYS[i], now, ARGV[3])
    redis.call('ZREMRANGEBYRANK', KEYS[i], 0, -(limit + 1))
    redis.call('PEXPIRE', KEYS[i], window)
    result[2 + i] = (counts[i] + 1 == limit) and 1 or 0
  end
end
return result
`;
const FAILURE_WINDOW_SHA = createHash('sha1').update(FAILURE_WINDOW).digest('hex');

/**
 * The CHECK half of FAILURE_WINDOW as a Lua function, for a script that checks a lockout on the
 * way (the rate limiter's): buckets KEYS[first..], their limits ARGV[limitAt..], `window` ms.
 * Returns ms until an attempt is allowed (0 if it is) and the locked bucket (0-based from
 * `first`, -1 if none). Writes nothing but the trimming of expired failures.
 */
export const LOCKOUT_CHECK_LUA = `
local function lockout(first, count, limitAt, window, now)
  local wait, locked = 0, -1
  for i = 0, count - 1 do
    local key = KEYS[first + i]
    local limit = tonumber(ARGV[limitAt + i])
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    local n = redis.call('ZCARD', key)
    if n >= limit then
      local edge = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
      local left = tonumber(edge[2]) + window - now
      if left > wait then
        wait = left
        locked = i
      end
    end
  end
  return wait, locked
end
`;

/** An address or key prefix's failure log, and how many failures lock it out. */
export interface ThrottleBucket {
  readonly scope: ThrottleScope;
  readonly key: string;
  readonly limit: number;
}

/** At most one lockout line per second per process; the ones left out are counted on the next. */
const LOCKOUT_LOG_INTERVAL_MS = 1000;

/**
 * Limits failed authentications (AUTH_FAILURE_LIMIT_PER_ADDRESS, AUTH_FAILURE_LIMIT_PER_KEY_PREFIX
 * per AUTH_FAILURE_WINDOW_MS) on /v1 and Bull Board alike. A locked-out address or prefix is
 * refused whatever its key, so a correct key is refused too: were it let through,
 * the lockout would still answer every guess, and the one different answer would be the hit.
 * A request whose key is good has its check made by the rate limiter's script (one Redis call
 * per request, not two); it is still refused, with the same 429, while its address or prefix is
 * locked out. Redis down: fails open (with a warning), as the per-key rate limit does.
 */
@Injectable()
export class AuthThrottle {
  private lastUnavailableWarning = 0;
  private lastLockoutLog = 0;
  private suppressedLockoutLogs = 0;
  /** Requests that authenticated and whose lockout check the rate limiter's script makes. */
  private readonly deferred = new WeakMap<Request, AuthAttempt>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    private readonly metrics: HeraldMetrics,
    private readonly logger: HeraldLogger,
  ) {}

  /**
   * The attempt a request makes with `presented` (undefined: no credentials). `req.ip` honours
   * TRUST_PROXY: behind a load balancer it is the client, not the balancer.
   */
  attemptOf(req: Request, presented: string | undefined): AuthAttempt {
    const prefix =
      presented === undefined || presented.length > 512 ? undefined : parseApiKey(presented)?.prefix;
    return { address: req.ip ?? 'unknown', bucket: addressBucket(req.ip), prefix };
  }

  /** Before the key is looked at: the lockout the attempt is under, if any. */
  async check(attempt: AuthAttempt): Promise<Lockout | undefined> {
    return (await this.run(CHECK, attempt, 'unknown')).lockout;
  }

  /**
   * A failure known without any lookup (not a Herald key, not the admin key): refused if locked
   * out, else counted, in one step so concurrent guesses cannot all pass a check first.
   */
  async failUnlessLocked(attempt: AuthAttempt, reason: AuthFailureReason): Promise<Lockout | undefined> {
    const { lockout } = await this.run(ATTEMPT, attempt, reason);
    if (!lockout) this.metrics.authFailures.inc({ reason });
    return lockout;
  }

  /** A failure the key lookup found, after check() let the attempt through. */
  async fail(attempt: AuthAttempt, reason: AuthFailureReason): Promise<void> {
    await this.run(RECORD, attempt, reason);
    this.metrics.authFailures.inc({ reason });
  }

  /**
   * A request that authenticated: its lockout check is made by the rate limiter, in the same
   * Redis call as its token bucket, instead of a call of its own (`takeDeferred`).
   */
  deferCheck(req: Request, attempt: AuthAttempt): void {
    this.deferred.set(req, attempt);
  }

  /** The attempt whose lockout check `deferCheck` left to the caller, once. */
  takeDeferred(req: Request): AuthAttempt | undefined {
    const attempt = this.deferred.get(req);
    this.deferred.delete(req);
    return attempt;
  }

  /** The failure logs an attempt counts in, with their limits (none when the limits are off). */
  bucketsOf(attempt: AuthAttempt): ThrottleBucket[] {
    const { perAddress, perKeyPrefix } = this.config.api.authFailures;
    const buckets: ThrottleBucket[] = [];
    if (perAddress > 0) {
      buckets.push({
        scope: 'address',
        key: this.keys.key('auth-failures', 'address', attempt.bucket),
        limit: perAddress,
      });
    }
    if (perKeyPrefix > 0 && attempt.prefix !== undefined) {
      buckets.push({
        scope: 'prefix',
        key: this.keys.key('auth-failures', 'prefix', attempt.prefix),
        limit: perKeyPrefix,
      });
    }
    return buckets;
  }

  /** The lockout a check found (`locked`: index into `buckets`, -1 for none), counted. */
  lockoutOf(buckets: readonly ThrottleBucket[], waitMs: number, locked: number): Lockout | undefined {
    const bucket = buckets[locked];
    if (!bucket) return undefined;
    this.metrics.authThrottled.inc({ scope: bucket.scope });
    return { scope: bucket.scope, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  /** No credentials at all: not a guess, so only counted in the metric (a probe or a browser before its login prompt must not lock its address out). */
  missing(): void {
    this.metrics.authFailures.inc({ reason: 'missing' });
  }

  private async run(
    mode: number,
    attempt: AuthAttempt,
    reason: AuthFailureReason,
  ): Promise<{ lockout: Lockout | undefined }> {
    const { windowMs } = this.config.api.authFailures;
    const buckets = this.bucketsOf(attempt);
    if (buckets.length === 0) return { lockout: undefined };
    let verdict: number[];
    try {
      verdict = await this.eval(
        buckets.map((b) => b.key),
        [mode, windowMs, randomUUID(), ...buckets.map((b) => b.limit)],
      );
    } catch (error) {
      if (Date.now() - this.lastUnavailableWarning > 10_000) {
        this.lastUnavailableWarning = Date.now();
        this.logger.warn(
          { err: { message: (error as Error).message } },
          'failed-authentication limit unavailable: allowing attempts',
        );
      }
      return { lockout: undefined };
    }
    const [waitMs = 0, locked = 0, ...reached] = verdict;
    reached.forEach((flag, i) => {
      if (flag === 1) this.logLockout(buckets[i]!.scope, buckets[i]!.limit, attempt, reason);
    });
    if (locked === 0 || mode === RECORD) return { lockout: undefined };
    return { lockout: this.lockoutOf(buckets, waitMs, locked - 1) };
  }

  private logLockout(scope: ThrottleScope, limit: number, attempt: AuthAttempt, reason: AuthFailureReason) {
    const now = Date.now();
    if (now - this.lastLockoutLog < LOCKOUT_LOG_INTERVAL_MS) {
      this.suppressedLockoutLogs++;
      return;
    }
    this.lastLockoutLog = now;
    const suppressed = this.suppressedLockoutLogs;
    this.suppressedLockoutLogs = 0;
    this.logger.warn(
      {
        scope,
        client_address: attempt.address,
        address_bucket: attempt.bucket,
        key_prefix: attempt.prefix ?? null,
        reason,
        limit,
        window_ms: this.config.api.authFailures.windowMs,
        suppressed,
      },
      `too many failed authentications: ${scope} locked out`,
    );
  }

  private async eval(keys: string[], args: (string | number)[]): Promise<number[]> {
    try {
      return (await this.redis.evalsha(FAILURE_WINDOW_SHA, keys.length, ...keys, ...args)) as number[];
    } catch (error) {
      if (!(error as Error).message.startsWith('NOSCRIPT')) throw error;
      return (await this.redis.eval(FAILURE_WINDOW, keys.length, ...keys, ...args)) as number[];
    }
  }
}

/** The 429 a locked-out attempt gets, with when to come back. */
export function lockoutProblem(lockout: Lockout): {
  details: ProblemDetails;
  headers: Record<string, string>;
} {
  const seconds = lockout.retryAfterSeconds;
  const detail =
    lockout.scope === 'address'
      ? `Too many failed authentications from this address: every request from it is refused, whatever its key, for ${seconds} s.`
      : `Too many failed authentications with this API key's prefix: the key is refused, even with the right secret, for ${seconds} s.`;
  return {
    details: problem('rate-limited', detail),
    headers: { 'Retry-After': String(lockout.retryAfterSeconds) },
  };
}
