import type { ConnectionOptions } from 'bullmq';
import { testRedisUrl } from './infrastructure';
import { RedisCluster } from './redis-cluster';
import { RedisServer } from './redis-server';

/** The Redis shapes Herald supports; e2e suites that matter for both run once per shape. */
export const REDIS_TOPOLOGIES = ['standalone', 'cluster'] as const;
export type RedisTopology = (typeof REDIS_TOPOLOGIES)[number];

/** A Redis for one test file, standalone or a 3-master cluster, behind one interface. */
export interface TestRedis {
  readonly topology: RedisTopology;
  /** REDIS_URL (and REDIS_CLUSTER_NODES) for a Herald process. */
  env(): Record<string, string>;
  /** For the test's own BullMQ queues: options, or a cluster client (closed by `destroy`). */
  connection(): ConnectionOptions;
  /**
   * Restarts the Redis holding `key`: the server, or on a cluster the master serving the key's
   * slot (the one every Herald key of that prefix lives on).
   */
  restart(key: string): Promise<void>;
  destroy(): Promise<void>;
}

export interface TestRedisOptions {
  /** Persist with AOF so a restart keeps the data. */
  appendOnly?: boolean;
  /** Standalone only: use the run's shared server (from the jest global setup) instead of a new one. */
  shared?: boolean;
}

export async function startTestRedis(
  topology: RedisTopology,
  options: TestRedisOptions = {},
): Promise<TestRedis> {
  if (topology === 'cluster')
    return clusterRedis(await RedisCluster.start({ appendOnly: options.appendOnly }));
  if (options.shared) {
    const url = testRedisUrl();
    return {
      topology,
      env: () => ({ REDIS_URL: url }),
      connection: () => ({ url }),
      restart: () => Promise.reject(new Error('the shared test Redis is not restarted by a test file')),
      destroy: () => Promise.resolve(),
    };
  }
  const server = await RedisServer.start({ appendOnly: options.appendOnly });
  return {
    topology,
    env: () => ({ REDIS_URL: server.url }),
    connection: () => ({ url: server.url }),
    restart: () => server.restart(),
    destroy: () => server.destroy(),
  };
}

function clusterRedis(cluster: RedisCluster): TestRedis {
  const clients: { quit(): Promise<unknown>; disconnect(): void }[] = [];
  return {
    topology: 'cluster',
    env: () => cluster.env(),
    connection: () => {
      const client = cluster.client();
      client.on('error', () => undefined);
      clients.push(client);
      return client;
    },
    restart: async (key) => {
      const server = await cluster.serverFor(key);
      await server.restart();
      await cluster.waitUntilHealthy();
    },
    destroy: async () => {
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
      await cluster.destroy();
    },
  };
}
