import { Cluster, Redis } from 'ioredis';
import { parseClusterNode } from './cluster-connection';
import { createRedisClient, isCluster } from './redis-connection';

describe('createRedisClient', () => {
  it('builds a standalone client without cluster nodes, with the URL’s host, database and credentials', () => {
    const client = createRedisClient(
      { url: 'redis://user:p%40ss@redis.internal:6380/3', clusterNodes: [] },
      { lazyConnect: true, connectionName: 'test' },
    );
    expect(client).toBeInstanceOf(Redis);
    expect(isCluster(client)).toBe(false);
    expect(client.options).toMatchObject({
      host: 'redis.internal',
      port: 6380,
      db: 3,
      username: 'user',
      password: 'p@ss',
      connectionName: 'test',
    });
    client.disconnect();
  });

  it('builds a cluster client from the seeds, with the URL’s credentials and TLS for every node', () => {
    const client = createRedisClient(
      { url: 'rediss://:secret@ignored:6379', clusterNodes: ['10.0.0.1:7000', '[::1]:7001'] },
      { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectionName: 'test' },
    );
    expect(client).toBeInstanceOf(Cluster);
    if (!isCluster(client)) throw new Error('unreachable');
    expect(client.options).toMatchObject({
      scaleReads: 'master',
      enableOfflineQueue: false,
      redisOptions: { password: 'secret', tls: {}, maxRetriesPerRequest: 1, connectionName: 'test' },
    });
    client.disconnect();
  });

  it('reads a seed as host:port or [ipv6]:port, and refuses anything else', () => {
    expect(parseClusterNode('10.0.0.1:7000')).toEqual({ host: '10.0.0.1', port: 7000 });
    expect(parseClusterNode('[::1]:7001')).toEqual({ host: '::1', port: 7001 });
    expect(() => parseClusterNode('10.0.0.1')).toThrow(/host:port/);
  });
});
