import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { HeraldLogger, HeraldMetrics, ReadinessService } from '@herald/telemetry';
import type { RedisClient } from './redis-connection';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { REDIS, RedisKeys } from './redis.provider';

export interface WorkerHeartbeat {
  id: string;
  host: string;
  pid: number;
  version: string;
  queues: readonly string[];
  concurrency: Record<string, number>;
  started_at: string;
  last_seen_at: string;
}

/** Heartbeats live in one sorted set (score = last seen, ms) plus a hash of details. */
function heartbeatKeys(keys: RedisKeys) {
  return { seen: keys.key('workers', 'seen'), info: keys.key('workers', 'info') };
}

/** Run by each worker: announces itself every interval, and leaves cleanly on shutdown. */
@Injectable()
export class HeartbeatPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly startedAt = new Date().toISOString();
  private timer: NodeJS.Timeout | undefined;
  private queues: readonly string[] = [];

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    private readonly metrics: HeraldMetrics,
    private readonly logger: HeraldLogger,
  ) {}

  consuming(queues: readonly string[]): void {
    this.queues = queues;
  }

  onApplicationBootstrap(): void {
    if (this.queues.length === 0) return; // not a worker
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.config.telemetry.heartbeatIntervalMs);
    this.timer.unref();
  }

  async beat(): Promise<void> {
    const now = Date.now();
    const heartbeat: WorkerHeartbeat = {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      version: this.config.app.version,
      queues: this.queues,
      concurrency: Object.fromEntries(
        this.queues.map((q) => [q, (this.config.queues.concurrency as Record<string, number>)[q] ?? 1]),
      ),
      started_at: this.startedAt,
      last_seen_at: new Date(now).toISOString(),
    };
    const { seen, info } = heartbeatKeys(this.keys);
    // Forget workers silent for ten heartbeat ages so the set does not grow with every deploy.
    const forgetBefore = now - 10 * this.config.telemetry.heartbeatMaxAgeMs;
    try {
      const stale = await this.redis.zrangebyscore(seen, '-inf', forgetBefore);
      const pipeline = this.redis
        .multi()
        .zadd(seen, now, this.id)
        .hset(info, this.id, JSON.stringify(heartbeat));
      if (stale.length > 0) pipeline.zrem(seen, ...stale).hdel(info, ...stale);
      await pipeline.exec();
      this.metrics.workerHeartbeats.inc({ result: 'ok' });
    } catch (error) {
      this.metrics.workerHeartbeats.inc({ result: 'error' });
      this.logger.debug({ err: { message: (error as Error).message } }, 'heartbeat not published');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.timer) return;
    clearInterval(this.timer);
    const { seen, info } = heartbeatKeys(this.keys);
    await this.redis
      .multi()
      .zrem(seen, this.id)
      .hdel(info, this.id)
      .exec()
      .catch(() => undefined);
  }
}

/** Read by the api: which workers are alive, for /ready and the ops heartbeat route. */
@Injectable()
export class HeartbeatReader {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    private readonly metrics: HeraldMetrics,
  ) {}

  async alive(now = Date.now()): Promise<WorkerHeartbeat[]> {
    const { seen, info } = heartbeatKeys(this.keys);
    const ids = await this.redis.zrangebyscore(seen, now - this.config.telemetry.heartbeatMaxAgeMs, '+inf');
    if (ids.length === 0) return [];
    const raw = await this.redis.hmget(info, ...ids);
    return raw.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as WorkerHeartbeat);
  }

  registerReadiness(readiness: ReadinessService): void {
    readiness.register('workers', {
      required: this.config.telemetry.readyRequireWorkers,
      check: async () => {
        const workers = await this.alive();
        this.metrics.workersAlive.set(workers.length);
        if (workers.length === 0) {
          throw new Error(`no worker heartbeat in the last ${this.config.telemetry.heartbeatMaxAgeMs} ms`);
        }
        return { alive: workers.length, max_age_ms: this.config.telemetry.heartbeatMaxAgeMs };
      },
    });
  }
}
