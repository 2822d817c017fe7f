import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { queryRows } from '@herald/persistence';
import { REDIS, RedisKeys, type RedisClient } from '@herald/queues';
import { HeraldLogger } from '@herald/telemetry';
import type { DataSource } from 'typeorm';
import { ProviderMetrics } from './provider-metrics';

/** What an account's provider reported in one request: delivered, hard bounces, complaints. */
export interface HealthCounts {
  delivered: number;
  hardBounces: number;
  complaints: number;
}

export type PauseReason = 'bounce_rate' | 'complaint_rate';

const BUCKETS = 12;
const FIELD = { delivered: 'd', hardBounces: 'b', complaints: 'c' } as const;

/**
 * Sender account health, counted incrementally as provider events are recorded: per account a
 * Redis hash of (kind, time bucket) counters over a sliding window of twelve buckets, one MULTI
 * per account and request (increment, read back, expire) — never a scan of events. Rates are
 * over the messages whose fate is known (delivered + hard bounces); once that sample reaches the
 * minimum and a rate is above its threshold the account is paused, once (only an active account
 * moves), with its reason.
 */
@Injectable()
export class AccountHealth {
  private readonly settings: HeraldConfig['providerEvents']['health'];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    @Inject(HERALD_CONFIG) config: HeraldConfig,
    private readonly metrics: ProviderMetrics,
    private readonly logger: HeraldLogger,
  ) {
    this.settings = config.providerEvents.health;
  }

  /** Adds the counts and pauses the account when it crossed a threshold; the reason when this call paused it. */
  async observe(
    tenantId: string,
    accountId: string,
    counts: HealthCounts,
    nowMs = Date.now(),
  ): Promise<PauseReason | undefined> {
    for (const [kind, label] of [
      ['delivered', 'delivered'],
      ['hardBounces', 'hard_bounce'],
      ['complaints', 'complaint'],
    ] as const) {
      if (counts[kind] > 0) this.metrics.healthEvents.inc({ account: accountId, kind: label }, counts[kind]);
    }
    const window = await this.count(tenantId, accountId, counts, nowMs);
    const reason = this.verdict(window);
    if (!reason) return undefined;
    return (await this.pause(tenantId, accountId, reason, window)) ? reason : undefined;
  }

  private async count(
    tenantId: string,
    accountId: string,
    counts: HealthCounts,
    nowMs: number,
  ): Promise<HealthCounts> {
    const bucketSeconds = Math.max(1, Math.ceil(this.settings.windowSeconds / BUCKETS));
    const bucket = Math.floor(nowMs / 1000 / bucketSeconds);
    const key = this.keys.key('health', tenantId, accountId);
    const multi = this.redis.multi();
    for (const kind of Object.keys(FIELD) as (keyof HealthCounts)[]) {
      if (counts[kind] > 0) multi.hincrby(key, `${FIELD[kind]}:${bucket}`, counts[kind]);
    }
    multi.hgetall(key);
    multi.expire(key, bucketSeconds * (BUCKETS + 1));
    const results = (await multi.exec()) ?? [];
    const all = (results[results.length - 2]?.[1] ?? {}) as Record<string, string>;
    const total: HealthCounts = { delivered: 0, hardBounces: 0, complaints: 0 };
    const stale: string[] = [];
    for (const [field, value] of Object.entries(all)) {
      const [letter, at] = field.split(':');
      if (Number(at) <= bucket - BUCKETS) {
        stale.push(field);
        continue;
      }
      const kind = (Object.keys(FIELD) as (keyof HealthCounts)[]).find((k) => FIELD[k] === letter);
      if (kind) total[kind] += Number(value);
    }
    // Buckets that left the window: dropped so the hash stays small (best effort).
    if (stale.length > 0) await this.redis.hdel(key, ...stale);
    return total;
  }

  private verdict(window: HealthCounts): PauseReason | undefined {
    const sample = window.delivered + window.hardBounces;
    if (sample < this.settings.minSample) return undefined;
    const { bounceRate, complaintRate } = this.settings;
    if (bounceRate > 0 && window.hardBounces / sample > bounceRate) return 'bounce_rate';
    if (complaintRate > 0 && window.complaints / sample > complaintRate) return 'complaint_rate';
    return undefined;
  }

  private async pause(
    tenantId: string,
    accountId: string,
    reason: PauseReason,
    window: HealthCounts,
  ): Promise<boolean> {
    const sample = window.delivered + window.hardBounces;
    const rate = (reason === 'bounce_rate' ? window.hardBounces : window.complaints) / sample;
    const text = `${reason === 'bounce_rate' ? 'hard bounce' : 'complaint'} rate ${(rate * 100).toFixed(2)} % over ${sample} messages in ${this.settings.windowSeconds} s (threshold ${((reason === 'bounce_rate' ? this.settings.bounceRate : this.settings.complaintRate) * 100).toFixed(2)} %)`;
    const paused = queryRows<{ id: string }>(
      await this.dataSource.query(
        `UPDATE sender_accounts SET status = 'paused', paused_reason = $3, paused_at = now(), updated_at = now()
          WHERE tenant_id = $1 AND id = $2 AND status = 'active' RETURNING id`,
        [tenantId, accountId, text],
      ),
    );
    if (paused.length === 0) return false;
    this.metrics.paused.inc({ account: accountId, reason });
    this.logger.warn(
      { tenant_id: tenantId, sender_account_id: accountId, reason, rate, sample },
      `sender account paused: ${text}`,
    );
    return true;
  }
}
