import { spawn } from 'node:child_process';
import { Cluster, Redis } from 'ioredis';
import { eventually } from './eventually';
import { RedisServer } from './redis-server';

export interface RedisClusterOptions {
  /** Masters (no replicas): 3, the smallest cluster `redis-cli --cluster create` accepts. */
  masters?: number;
  /** Persist every node with AOF, so a node restart keeps its data. */
  appendOnly?: boolean;
}

/**
 * A Redis Cluster of real redis-server processes on loopback: N masters, no replicas, the 16384
 * slots spread by `redis-cli --cluster create`. Herald connects through `nodes` (REDIS_CLUSTER_NODES).
 */
export class RedisCluster {
  private constructor(readonly servers: readonly RedisServer[]) {}

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const count = options.masters ?? 3;
    const servers = await Promise.all(
      Array.from({ length: count }, () =>
        RedisServer.start({ clusterNode: true, appendOnly: options.appendOnly ?? false }),
      ),
    );
    const cluster = new RedisCluster(servers);
    try {
      await run('redis-cli', [
        '--cluster',
        'create',
        ...servers.map((s) => `127.0.0.1:${s.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ]);
      await cluster.waitUntilHealthy();
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  /** REDIS_CLUSTER_NODES: every node as a seed. */
  get nodes(): string {
    return this.servers.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  /** REDIS_URL: credentials and TLS only, in cluster mode (no user, no password, plain TCP here). */
  get url(): string {
    return this.servers[0]!.url;
  }

  /** What a Herald process needs to use this cluster. */
  env(): Record<string, string> {
    return { REDIS_URL: this.url, REDIS_CLUSTER_NODES: this.nodes };
  }

  /** A cluster client for the test itself (BullMQ queues, inspection). */
  client(): Cluster {
    return new Cluster(
      this.servers.map((s) => ({ host: '127.0.0.1', port: s.port })),
      { scaleReads: 'master', redisOptions: { maxRetriesPerRequest: null } },
    );
  }

  /** The node serving `key`'s slot (each node answers CLUSTER KEYSLOT the same; ownership comes from CLUSTER SLOTS). */
  async serverFor(key: string): Promise<RedisServer> {
    return this.withNode(this.servers[0]!, async (node) => {
      const slot = Number(await node.cluster('KEYSLOT', key));
      const ranges = await node.cluster('SLOTS');
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      const server = this.servers.find((s) => s.port === range?.[2]?.[1]);
      if (!server) throw new Error(`no node serves slot ${slot}`);
      return server;
    });
  }

  /** Every node agrees the cluster is whole: all slots served, state ok. */
  async waitUntilHealthy(timeoutMs = 20_000): Promise<void> {
    await eventually(
      async () => {
        const states = await Promise.all(
          this.servers.map((s) =>
            this.withNode(s, async (node) => String(await node.cluster('INFO'))).catch(() => ''),
          ),
        );
        return states.every((info) => /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info))
          ? true
          : undefined;
      },
      { timeoutMs, what: 'Redis Cluster state ok on every node' },
    );
  }

  async destroy(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.destroy()));
  }

  private async withNode<T>(server: RedisServer, work: (node: Redis) => Promise<T>): Promise<T> {
    const node = new Redis({
      host: '127.0.0.1',
      port: server.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    node.on('error', () => undefined);
    try {
      await node.connect();
      return await work(node);
    } finally {
      node.disconnect();
    }
  }
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`)),
    );
  });
}
