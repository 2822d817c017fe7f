import type { RedisOptions } from 'ioredis';
import type { RedisOptions as BullRedisOptions } from 'bullmq';

/** ioredis options from a redis:// or rediss:// URL (BullMQ takes options, not URLs). */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: Number.isInteger(db) ? db : 0,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    // Reconnect forever with a capped delay: Redis going away is an outage to ride out, not a crash.
    retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
  };
}

/** `{prefix}`: a hash tag, so every key of a queue lands in one Redis Cluster slot. */
export function hashTaggedPrefix(prefix: string): string {
  return `{${prefix}}`;
}

/** BullMQ's own connection options (it opens its connections from these). */
export function bullConnection(url: string): BullRedisOptions {
  return { url, retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2000) };
}
