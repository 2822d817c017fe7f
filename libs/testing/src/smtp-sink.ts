import { SMTPServer } from 'smtp-server';

export interface SinkMessage {
  /** The Message-ID header (Herald derives it from the delivery key). */
  messageId: string;
  deliveryId: string | null;
  /** The Subject header as sent (encoded words left as they are). */
  subject: string | null;
  /** How many times a message with this id arrived: more than one is a duplicate. */
  count: number;
  firstAt: number;
  /** The first copy as received (read it with readMime). */
  raw: Buffer;
}

/**
 * An SMTP provider on loopback that, unlike a real one, keeps every copy it is given: it counts
 * messages per Message-ID (one per delivery key), so a test sees a message sent twice instead of
 * having it silently deduplicated. Accepts any sender, recipient and login; no TLS.
 */
export class SmtpSink {
  /** By Message-ID. */
  readonly messages = new Map<string, SinkMessage>();
  /** Copies of a Message-ID already received. */
  duplicates = 0;
  /** Messages without a Message-ID (never sent by Herald). */
  anonymous = 0;
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(): Promise<SmtpSink> {
    const holder: { sink?: SmtpSink } = {};
    const server = new SMTPServer({
      logger: false,
      authOptional: true,
      allowInsecureAuth: true,
      hideSTARTTLS: true,
      disabledCommands: ['STARTTLS'],
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username ?? 'anyone' }),
      onData: (stream, _session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          holder.sink?.keep(Buffer.concat(chunks));
          callback();
        });
      },
    });
    server.on('error', () => undefined); // a client that dies mid-session (kill -9) is expected
    const port = await new Promise<number>((resolve, reject) => {
      const net = server.listen(0, '127.0.0.1', () => {
        const address = net.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
      net.once('error', reject);
    });
    holder.sink = new SmtpSink(server, port);
    return holder.sink;
  }

  /** Distinct Message-IDs received. */
  get distinct(): number {
    return this.messages.size;
  }

  /** Resolves once `count` distinct messages have arrived. */
  waitForMessages(count: number): Promise<void> {
    if (this.messages.size >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private keep(raw: Buffer): void {
    const headers = messageHeaders(raw);
    const messageId = headers.get('message-id');
    if (!messageId) {
      this.anonymous += 1;
      return;
    }
    const known = this.messages.get(messageId);
    if (known) {
      known.count += 1;
      this.duplicates += 1;
      return;
    }
    this.messages.set(messageId, {
      messageId,
      deliveryId: headers.get('x-herald-delivery-id') ?? null,
      subject: headers.get('subject') ?? null,
      count: 1,
      firstAt: Date.now(),
      raw,
    });
    for (const waiter of [...this.waiters]) {
      if (this.messages.size >= waiter.count) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }
}

/** A message's header block (unfolded, names lower-cased, first of each name): the sinks' whole parse. */
export function messageHeaders(raw: Buffer): Map<string, string> {
  const text = raw.toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const block = (end === -1 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}
