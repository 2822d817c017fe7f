import { backoffDelay, canRetry, DEFAULT_RETRY_POLICY, retryDelay } from './retry-policy';

describe('retry policy', () => {
  const policy = { baseMs: 1000, maxMs: 60_000, maxAttempts: 5, maxRetryAfterMs: 120_000 };

  it('grows exponentially and is capped (upper bound with random → 1)', () => {
    const top = () => 0.999999;
    expect([0, 1, 2, 3, 6, 7, 50].map((r) => backoffDelay(r, policy, top))).toEqual([
      999, 1999, 3999, 7999, 59_999, 59_999, 59_999,
    ]);
  });

  it('uses full jitter: anywhere in [0, ceiling)', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(4000);
    const samples = Array.from({ length: 200 }, () => backoffDelay(4, policy));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(16_000);
    expect(new Set(samples).size).toBeGreaterThan(50);
  });

  it('honours Retry-After up to its cap, and never waits less than the backoff', () => {
    expect(retryDelay(0, 30_000, policy, () => 0.5)).toBe(30_000);
    expect(retryDelay(0, 10 * 60_000, policy, () => 0.5)).toBe(120_000);
    expect(retryDelay(10, 1000, policy, () => 0.5)).toBe(30_000);
    expect(retryDelay(1, undefined, policy, () => 0.5)).toBe(1000);
  });

  it('counts attempts', () => {
    expect(canRetry(4, policy)).toBe(true);
    expect(canRetry(5, policy)).toBe(false);
    expect(canRetry(DEFAULT_RETRY_POLICY.maxAttempts - 1)).toBe(true);
    expect(() => backoffDelay(-1, policy)).toThrow(RangeError);
  });
});
