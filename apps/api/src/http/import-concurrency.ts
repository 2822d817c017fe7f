import { Inject, Injectable } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { REDIS, RedisKeys } from '@herald/queues';
import type { Redis } from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import { ProblemException } from './problem';

/**
 * A counting semaphore per tenant, shared by every api replica: a sorted set of leases scored by
 * their expiry on Redis' own clock. Taking a lease first drops the expired ones, so the slots of
 * a replica that died mid-import come back after LEASE_MS instead of leaking. Returns 1 (taken)
 * or 0 (every slot is held).
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
`;

/** Extends a lease that is still held (a lease that already lapsed is not taken back). */
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZSCORE', KEYS[1], ARGV[2]) == false then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
`;

/** How long a lease lives without renewal: a crashed replica's slots are free again after this. */
const LEASE_MS = 60_000;
const RENEW_EVERY_MS = LEASE_MS / 3;
/** Imports take seconds to minutes; asking again sooner than this only spends the rate limit. */
const RETRY_AFTER_SECONDS = 5;

export interface ImportSlot {
  release(): Promise<void>;
}

/** API_IMPORT_CONCURRENCY_PER_TENANT: imports one tenant may run at once; 429 beyond. */
@Injectable()
export class ImportConcurrency {
  private lastWarning = 0;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    private readonly logger: PinoLogger,
  ) {}

  /** A slot for one import of the tenant, held (and renewed) until released; 429 when none is free. */
  async acquire(tenantId: string): Promise<ImportSlot> {
    const limit = this.config.api.importConcurrencyPerTenant;
    const key = this.keys.key('imports', tenantId);
    const token = randomUUID();
    let taken: number;
    try {
      taken = (await this.redis.eval(ACQUIRE, 1, key, limit, LEASE_MS, token)) as number;
    } catch (error) {
      // Fail open, as the rate limit does: losing Redis must not stop imports. The pool is safe
      // regardless (no connection waits on a body); this limit only shares the work out.
      this.warn(error);
      return { release: () => Promise.resolve() };
    }
    if (taken !== 1) {
      throw ProblemException.of(
        'rate-limited',
        `This tenant already runs ${limit} imports at once: retry in ${RETRY_AFTER_SECONDS} s, or once one has finished.`,
        [],
        { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      );
    }
    const renewal = setInterval(() => {
      this.redis.eval(RENEW, 1, key, LEASE_MS, token).catch((error: unknown) => this.warn(error));
    }, RENEW_EVERY_MS);
    renewal.unref();
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(renewal);
        // Lost with Redis, the lease frees itself after LEASE_MS.
        await this.redis.zrem(key, token).catch((error: unknown) => this.warn(error));
      },
    };
  }

  private warn(error: unknown): void {
    if (Date.now() - this.lastWarning < 10_000) return;
    this.lastWarning = Date.now();
    this.logger.warn({ err: { message: (error as Error).message } }, 'import concurrency limit unavailable');
  }
}
