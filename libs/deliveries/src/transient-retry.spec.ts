import { TransientStageError } from './stage-errors';
import { retryTransient } from './transient-retry';

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('retryTransient', () => {
  it('retries a transient error with growing waits until the work succeeds', async () => {
    let calls = 0;
    const waits: number[] = [];
    const result = await retryTransient(
      'load',
      () => {
        calls += 1;
        return calls < 4 ? Promise.reject(refused()) : Promise.resolve('loaded');
      },
      { baseDelayMs: 2, maxDelayMs: 8, onRetry: (_e, _attempt, delay) => waits.push(delay) },
    );
    expect(result).toBe('loaded');
    expect(calls).toBe(4);
    // 2, 4, 8 ms with 50–100 % jitter.
    expect(waits[0]).toBeGreaterThanOrEqual(1);
    expect(waits[0]).toBeLessThanOrEqual(2);
    expect(waits[2]).toBeGreaterThanOrEqual(4);
    expect(waits[2]).toBeLessThanOrEqual(8);
  });

  it('throws any other error at once, unchanged', async () => {
    let calls = 0;
    const bug = new TypeError('not a function');
    await expect(
      retryTransient('account', () => {
        calls += 1;
        return Promise.reject(bug);
      }),
    ).rejects.toBe(bug);
    expect(calls).toBe(1);
  });

  it('gives up past its budget with a TransientStageError naming the stage and the cause', async () => {
    let calls = 0;
    const error = await retryTransient(
      'quota reserve',
      () => {
        calls += 1;
        return Promise.reject(refused());
      },
      { budgetMs: 30, baseDelayMs: 4, maxDelayMs: 4 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientStageError);
    expect((error as TransientStageError).stage).toBe('quota reserve');
    expect((error as Error).message).toMatch(/^quota reserve: connect ECONNREFUSED 127\.0\.0\.1:5432/);
    expect(calls).toBeGreaterThan(2);
  });
});
