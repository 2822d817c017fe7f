import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { HeraldLogger, HeraldMetrics, ReadinessService, serviceName } from '@herald/telemetry';
import {
  createRedisClient,
  hashTaggedPrefix,
  isCluster,
  redisTarget,
  type RedisClient,
} from './redis-connection';

/**
 * The process's general-purpose Redis client (health, heartbeats, leases, quota, breakers, API
 * limits), a RedisClient: standalone or cluster per REDIS_CLUSTER_NODES. BullMQ keeps its own.
 */
export const REDIS = Symbol('HERALD_REDIS');

/**
 * Key naming shared by everything Herald keeps in Redis, under the same hash tag as the queues:
 * `{prefix}:part:part`. Every key of a deployment hashes to one Redis Cluster slot, so a Lua
 * script or MULTI over any of them can never meet CROSSSLOT (docs/architecture.md, Redis Cluster).
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}
  key(...parts: string[]): string {
    return [hashTaggedPrefix(this.prefix), ...parts].join(':');
  }
}

export const redisProviders: Provider[] = [
  {
    provide: REDIS,
    inject: [HERALD_CONFIG, HeraldLogger, HeraldMetrics],
    useFactory: (config: HeraldConfig, logger: HeraldLogger, metrics: HeraldMetrics) => {
      const client = createRedisClient(redisTarget(config), {
        connectionName: serviceName(config),
        // Fail fast while disconnected: callers (health, heartbeats, leases) retry on their own schedule.
        enableOfflineQueue: false,
        // Commands issued in the same tick (a batch's quota commits, breaker calls) go out in one write.
        enableAutoPipelining: true,
        maxRetriesPerRequest: 1,
        commandTimeout: 5000,
      });
      let down = false;
      client.on('error', (error: Error) => {
        metrics.redisErrors.inc({ client: 'shared' });
        if (!down) logger.warn({ err: { message: error.message } }, 'redis connection error');
        down = true;
      });
      const mode = isCluster(client) ? 'cluster' : 'standalone';
      let first = true;
      client.on('ready', () => {
        // Says once which kind of Redis this process talks to: a misconfigured REDIS_CLUSTER_NODES shows at boot.
        if (first) logger.info({ redis_mode: mode }, 'redis ready');
        else if (down) logger.info('redis connection restored');
        first = false;
        down = false;
      });
      return client;
    },
  },
  {
    provide: RedisKeys,
    inject: [HERALD_CONFIG],
    useFactory: (config: HeraldConfig) => new RedisKeys(config.redis.prefix),
  },
];

/** Registers the `redis` readiness component and closes the client last. */
@Injectable()
export class RedisLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    readiness: ReadinessService,
  ) {
    readiness.register('redis', {
      required: true,
      check: async () => {
        if (this.redis.status !== 'ready') throw new Error(`connection ${this.redis.status}`);
        await this.redis.ping();
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
