import { connect, createServer, type Server, type Socket } from 'node:net';

/** Whether a trapped chunk still reaches the server (its answer is lost) or is lost itself. */
export type FreezeMoment = 'before' | 'after';

interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
  frozen: boolean;
}

interface Trap {
  readonly marker: string;
  readonly moment: FreezeMoment;
  readonly sprung: () => void;
}

/**
 * A TCP proxy on loopback whose connections can be frozen: from then on bytes are dropped both
 * ways and neither side is told anything — no FIN, no RST, even when the other side closes. That
 * is a silent partition (a host frozen, a NAT entry gone), which a proxy that closes or resets
 * cannot show. Connections opened after a freeze flow normally, as a new route would.
 */
export class FreezableProxy {
  private readonly links = new Set<Link>();
  private trap: Trap | undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on 127.0.0.1 (a free port) and forwards each connection to `target`. */
  static async start(target: { host: string; port: number }): Promise<FreezableProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('proxy has no port');
    const proxy = new FreezableProxy(server, address.port);
    server.on('connection', (client) => proxy.forward(client, target));
    return proxy;
  }

  /** `url` (a postgres:// or any URL with a host) pointed at this proxy instead. */
  via(url: string): string {
    const through = new URL(url);
    through.hostname = '127.0.0.1';
    through.port = String(this.port);
    return through.toString();
  }

  /** Freezes every connection open now; returns how many. */
  freezeAll(): number {
    for (const link of this.links) link.frozen = true;
    return this.links.size;
  }

  /**
   * Freezes the first connection whose client sends bytes containing `marker`: 'before' drops that
   * chunk (the request is lost), 'after' lets it through first (the server acts, its answer is
   * lost). Resolves when it happened.
   */
  freezeOn(marker: string, moment: FreezeMoment): Promise<void> {
    return new Promise((resolve) => {
      this.trap = { marker, moment, sprung: resolve };
    });
  }

  /** Connections open now, frozen ones included. */
  get connections(): number {
    return this.links.size;
  }

  async close(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    this.links.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: Socket, target: { host: string; port: number }): void {
    const upstream = connect(target.port, target.host);
    const link: Link = { client, upstream, frozen: false };
    this.links.add(link);
    client.on('data', (chunk: Buffer) => {
      if (link.frozen) return;
      const trap = this.trap;
      if (trap && chunk.includes(trap.marker)) {
        this.trap = undefined;
        if (trap.moment === 'after') upstream.write(chunk);
        link.frozen = true;
        trap.sprung();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!link.frozen) client.write(chunk);
    });
    // An end or error on one side reaches the other only while the link flows: once frozen, the
    // other side must learn nothing (close() ends both).
    const hangUp = (other: Socket) => () => {
      if (!link.frozen) {
        other.destroy();
        this.links.delete(link);
      }
    };
    client.on('close', hangUp(upstream));
    upstream.on('close', hangUp(client));
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  }
}
