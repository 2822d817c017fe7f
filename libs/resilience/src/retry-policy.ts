/** Exponential backoff with full jitter (DESIGN §9): delay = random(0, min(cap, base · 2^attempt)). */
export interface RetryPolicy {
  /** Delay scale of the first retry. */
  readonly baseMs: number;
  /** Largest backoff delay. */
  readonly maxMs: number;
  /** Attempts in all, the first one included. */
  readonly maxAttempts: number;
  /** Largest wait a provider's Retry-After may impose before we retry anyway. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseMs: 1000,
  maxMs: 5 * 60_000,
  maxAttempts: 8,
  maxRetryAfterMs: 60 * 60_000,
};

/**
 * The jittered backoff before retry number `retry` (0 for the first retry). Full jitter spreads
 * a fleet's retries uniformly so a recovering provider is not hit in synchronized waves.
 */
export function backoffDelay(
  retry: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random = Math.random,
): number {
  if (!Number.isInteger(retry) || retry < 0)
    throw new RangeError(`retry must be a whole number ≥ 0, got ${retry}`);
  // 2 ** 1024 is Infinity; min() caps it before it matters.
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(retry, 1000));
  return Math.floor(random() * ceiling);
}

/**
 * The delay before retry number `retry`, honouring a provider's Retry-After: never sooner than
 * it asked (up to `maxRetryAfterMs`), otherwise the jittered backoff.
 */
export function retryDelay(
  retry: number,
  retryAfterMs: number | undefined,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random = Math.random,
): number {
  const backoff = backoffDelay(retry, policy, random);
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs) || retryAfterMs <= 0) return backoff;
  return Math.max(Math.min(retryAfterMs, policy.maxRetryAfterMs), backoff);
}

/** Whether another attempt is allowed after `attemptsMade` attempts. */
export function canRetry(attemptsMade: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY): boolean {
  return attemptsMade < policy.maxAttempts;
}
