import { setTimeout as sleep } from 'node:timers/promises';
import { isTransientInfraError, TransientStageError } from './stage-errors';

export interface RetryOptions {
  /** Give up (TransientStageError) once another wait would pass this long; omitted: never give up. */
  readonly budgetMs?: number;
  /** First wait; each next one doubles, up to `maxDelayMs`, with jitter (50–100 % of it). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Told before each wait. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

const BASE_DELAY_MS = 50;
const MAX_DELAY_MS = 2000;

/**
 * Runs `work`, and again after a backoff while it fails with a transient infrastructure error
 * (isTransientInfraError); any other error is thrown at once. `work` must be safe to repeat:
 * every statement it retries is guarded by the state it expects, or carries its own id.
 */
export async function retryTransient<T>(
  stage: string,
  work: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const started = performance.now();
  const base = options.baseDelayMs ?? BASE_DELAY_MS;
  const max = options.maxDelayMs ?? MAX_DELAY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isTransientInfraError(error)) throw error;
      const ceiling = Math.min(max, base * 2 ** Math.min(attempt - 1, 20));
      const delay = Math.round(ceiling * (0.5 + Math.random() * 0.5));
      if (options.budgetMs !== undefined && performance.now() - started + delay > options.budgetMs) {
        throw new TransientStageError(stage, error);
      }
      options.onRetry?.(error, attempt, delay);
      await sleep(delay);
    }
  }
}
