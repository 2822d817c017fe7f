import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { REDIS, RedisKeys, RedisScript } from '@herald/queues';
import { HeraldLogger, HeraldMetrics, ReadinessService } from '@herald/telemetry';
import type { RedisClient } from '@herald/queues';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Acquire: set-if-absent with expiry, and a fresh fencing token from a counter that only grows.
 * Returns the token, or minus the lease's remaining ms (so a standby knows when to try again).
 */
const ACQUIRE = new RedisScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl ~= -2 then return -math.max(ttl, 1) end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '#' .. token, 'PX', ARGV[2])
return token`);
/** Renew only a lease we still hold (same holder and token). */
const RENEW = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`);
const RELEASE = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

export interface Leadership {
  leader: boolean;
  fencing_token: number;
  holder: string;
}

/**
 * One active beat among any number of replicas. The leader renews well inside the TTL and
 * steps down by itself when it cannot renew before its lease could have expired, so two
 * leaders never overlap. Standbys retry exactly when the current lease would run out, so a
 * killed leader is replaced within the TTL. Duties use the fencing token to reject work of
 * a leader that lost the lease.
 */
@Injectable()
export class LeaderLease implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly holder = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private token = 0;
  /** Local deadline: after it the lease may have expired in Redis, so we no longer act as leader. */
  private validUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly listeners: ((leader: boolean) => void)[] = [];

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    private readonly metrics: HeraldMetrics,
    private readonly logger: HeraldLogger,
    readiness: ReadinessService,
  ) {
    readiness.register('leadership', { required: false, check: () => Promise.resolve({ ...this.state() }) });
  }

  isLeader(now = Date.now()): boolean {
    return this.token > 0 && now < this.validUntil;
  }

  state(): Leadership {
    return { leader: this.isLeader(), fencing_token: this.isLeader() ? this.token : 0, holder: this.holder };
  }

  onChange(listener: (leader: boolean) => void): void {
    this.listeners.push(listener);
  }

  onApplicationBootstrap(): void {
    this.metrics.beatLeader.set(0);
    this.metrics.beatFencingToken.set(0);
    if (this.redis.status === 'ready') this.schedule(0);
    else this.redis.once('ready', () => this.schedule(0));
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.token > 0) {
      const value = `${this.holder}#${this.token}`;
      await RELEASE.run(this.redis, [this.leaseKey()], [value]).catch(() => undefined);
      this.setLeader(0, 'released');
    }
  }

  private leaseKey(): string {
    return this.keys.key('beat', 'leader');
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    const { leaseTtlMs: ttl, leaseRenewMs: renew } = this.config.beat;
    const started = Date.now();
    try {
      if (this.token > 0) {
        const renewed = (await RENEW.run(
          this.redis,
          [this.leaseKey()],
          [`${this.holder}#${this.token}`, ttl],
        )) as number;
        if (renewed === 1) {
          this.validUntil = started + ttl - renew; // a margin for clock drift and the next renewal
        } else {
          this.setLeader(0, 'lost');
        }
        this.schedule(renew);
        return;
      }
      const result = (await ACQUIRE.run(
        this.redis,
        [this.leaseKey(), this.keys.key('beat', 'fence')],
        [this.holder, ttl],
      )) as number;
      if (result > 0) {
        this.validUntil = started + ttl - renew;
        this.setLeader(result, 'acquired');
        this.schedule(renew);
      } else {
        // Try again the moment the current lease runs out (bounded by the renew interval).
        this.schedule(Math.min(renew, Math.max(10, -result + 5)));
      }
    } catch (error) {
      this.logger.warn({ err: { message: (error as Error).message } }, 'leader lease: redis unavailable');
      if (this.token > 0 && !this.isLeader()) this.setLeader(0, 'lost');
      this.schedule(Math.min(renew, 1000));
    }
  }

  private setLeader(token: number, event: 'acquired' | 'lost' | 'released'): void {
    const was = this.token > 0;
    this.token = token;
    if (token === 0) this.validUntil = 0;
    this.metrics.beatLeader.set(token > 0 ? 1 : 0);
    this.metrics.beatFencingToken.set(token);
    this.metrics.beatLeaderTransitions.inc({ event });
    this.logger.info(
      { holder: this.holder, fencing_token: token, event },
      token > 0 ? 'beat is now the leader' : 'beat is now a standby',
    );
    if (was !== token > 0) for (const listener of this.listeners) listener(token > 0);
  }
}
