import type { RedisClient, RedisKeys } from '@herald/queues';

/** One request per domain per this many ms across the fleet. */
export const DOMAIN_INTERVAL_MS = 1000;

export class DomainBusyError extends Error {
  constructor(readonly domain: string) {
    super(`no request slot for ${domain} within the wait allowed`);
    this.name = 'DomainBusyError';
  }
}

/**
 * At most one request per website domain per second, fleet-wide: a slot is a Redis key set
 * only if absent (SET NX PX), which is atomic by itself, so no script is needed. Whoever does
 * not get it waits the key's remaining life and asks again.
 */
export class DomainPacer {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly intervalMs = DOMAIN_INTERVAL_MS,
  ) {}

  /** Resolves when this caller may send one request to `domain`; throws after `maxWaitMs`. */
  async acquire(domain: string, maxWaitMs: number): Promise<void> {
    const key = this.keys.key('sourcing', 'domain', domain);
    const until = Date.now() + maxWaitMs;
    for (;;) {
      if ((await this.redis.set(key, '1', 'PX', this.intervalMs, 'NX')) === 'OK') return;
      const left = await this.redis.pttl(key);
      const wait = Math.max(5, left > 0 ? left : 5) + Math.floor(Math.random() * 20);
      if (Date.now() + wait > until) throw new DomainBusyError(domain);
      // Waiting for the rate slot itself: the key's remaining life is exactly when it frees.
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
