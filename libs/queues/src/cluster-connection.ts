import { Cluster, type ClusterNode, type Redis } from 'ioredis';
import type { ClientOptions } from './redis-connection';

/** What every node of the cluster shares, from REDIS_URL. */
export interface ClusterCredentials {
  readonly username?: string;
  readonly password?: string;
  readonly tls?: object;
}

/** `host:port` (or `[v6]:port`) as ioredis takes a seed node. */
export function parseClusterNode(node: string): ClusterNode {
  const match = /^\[?(.+?)\]?:(\d+)$/.exec(node);
  if (!match) throw new RangeError(`a cluster node must be host:port, got ${JSON.stringify(node)}`);
  return { host: match[1]!, port: Number(match[2]) };
}

/**
 * A Redis Cluster client through the seed nodes. The URL gives what every node shares (user,
 * password, TLS); its host and database do not apply (a cluster has database 0 only).
 * Reads go to masters: quota, breaker and lease state must never be read stale from a replica.
 */
export function clusterClient(
  nodes: readonly string[],
  { username, password, tls }: ClusterCredentials,
  options: ClientOptions,
  reconnectDelay: (times: number) => number,
): Cluster {
  const { connectionName, enableOfflineQueue, enableAutoPipelining, lazyConnect, retryStrategy, ...perNode } =
    options;
  return new Cluster(nodes.map(parseClusterNode), {
    scaleReads: 'master',
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    // The cluster client reconnects the cluster as a whole (node connections do not retry alone).
    clusterRetryStrategy: retryStrategy ?? reconnectDelay,
    // ioredis' 1 s default fails the slot map refresh (and delays readiness) on a busy host.
    slotsRefreshTimeout: 5000,
    redisOptions: {
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(tls ? { tls } : {}),
      ...(connectionName ? { connectionName } : {}),
      ...perNode,
    },
  });
}

/**
 * The master serving `key`'s slot: where INFO about Herald's data must be read, since every
 * Herald key shares one hash tag (a random node's INFO would describe someone else's memory).
 */
export async function nodeServing(cluster: Cluster, key: string): Promise<Redis | undefined> {
  const slot = Number(await cluster.cluster('KEYSLOT', key));
  const address = (cluster.slots[slot] ?? [])[0];
  return cluster.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === address);
}
