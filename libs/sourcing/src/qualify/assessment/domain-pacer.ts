import type { RedisClient, RedisKeys } from '@herald/queues';
import type { FetchSlots } from '../fetch-slots';

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

  /**
   * Runs `send` as this domain's one request of its second, inside a fetch slot: the slot is
   * taken first and the domain's turn asked within it, so the request leaves the moment the
   * turn is granted (a turn is never spent waiting for a slot); while the domain is busy the
   * slot is given back. Throws DomainBusyError when no turn comes within `maxWaitMs`.
   */
  async run<T>(domain: string, maxWaitMs: number, slots: FetchSlots, send: () => Promise<T>): Promise<T> {
    const key = this.keys.key('sourcing', 'domain', domain);
    const until = Date.now() + maxWaitMs;
    for (;;) {
      const turn = await slots.run(async (): Promise<Turn<T>> => {
        if ((await this.redis.set(key, '1', 'PX', this.intervalMs, 'NX')) === 'OK')
          return { granted: true, value: await send() };
        return { granted: false, leftMs: await this.redis.pttl(key) };
      });
      if (turn.granted) return turn.value;
      const wait = Math.max(5, turn.leftMs > 0 ? turn.leftMs : 5) + Math.floor(Math.random() * 20);
      if (Date.now() + wait > until) throw new DomainBusyError(domain);
      // Waiting for the rate slot itself: the key's remaining life is exactly when it frees.
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

type Turn<T> = { granted: true; value: T } | { granted: false; leftMs: number };
