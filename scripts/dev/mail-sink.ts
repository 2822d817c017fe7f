import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { messageHeaders } from '@herald/testing';
import { SMTPServer } from 'smtp-server';

/** One line of `index.ndjson` in the mail folder: what a message was, and which file holds it. */
export interface MailIndexEntry {
  file: string;
  message_id: string | null;
  delivery_id: string | null;
  from: string | null;
  to: string[];
  subject: string | null;
  received_at: string;
}

/**
 * The development mail server: an SMTP server on loopback that accepts any sender, any
 * recipient and any credentials, and keeps every message as an .eml file in `dir` (names sort by
 * arrival time) plus one line per message in `dir/index.ndjson`. Like real servers it drops a
 * second copy of a Message-ID it already holds (Herald derives it from the delivery key), and
 * counts it as a duplicate. The index is read back on start, so counts survive a restart.
 */
export class MailSink {
  /** Messages kept (one .eml each). */
  received = 0;
  duplicates = 0;
  firstAt: number | undefined;
  private readonly messageIds = new Set<string>();
  private seq = 0;

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(options: { dir: string; port: number }): Promise<MailSink> {
    mkdirSync(options.dir, { recursive: true });
    const holder: { sink?: MailSink } = {};
    const server = new SMTPServer({
      logger: false,
      banner: 'Herald development mail sink',
      authOptional: true,
      allowInsecureAuth: true,
      hideSTARTTLS: true,
      disabledCommands: ['STARTTLS'],
      size: 25 * 1024 * 1024,
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username ?? 'anyone' }),
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          try {
            const rcpt = session.envelope.rcptTo.map((r) => r.address);
            holder.sink?.keep(Buffer.concat(chunks), rcpt);
            callback();
          } catch (error) {
            callback(error as Error);
          }
        });
      },
    });
    server.on('error', () => undefined); // a client dropping its connection is not our problem
    await new Promise<void>((resolve, reject) => {
      const net = server.listen(options.port, '127.0.0.1', () => resolve());
      net.once('error', reject);
    });
    const sink = new MailSink(server, options.port, options.dir);
    sink.load();
    holder.sink = sink;
    return sink;
  }

  get indexFile(): string {
    return join(this.dir, 'index.ndjson');
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private load(): void {
    if (!existsSync(this.indexFile)) return;
    for (const line of readFileSync(this.indexFile, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as MailIndexEntry;
        if (entry.message_id) this.messageIds.add(entry.message_id);
        this.received += 1;
      } catch {
        // a line cut short by a crash: the .eml is there, the index line is not worth failing for
      }
    }
    this.seq = this.received;
  }

  private keep(raw: Buffer, rcpt: string[]): void {
    const headers = messageHeaders(raw);
    const messageId = headers.get('message-id') ?? null;
    if (messageId && this.messageIds.has(messageId)) {
      this.duplicates += 1;
      return;
    }
    const now = new Date();
    this.seq += 1;
    // 2026-05-22T10-15-30.123Z-000001.eml: sorts by arrival, unique within this folder.
    const file = `${now.toISOString().replace(/:/g, '-')}-${String(this.seq).padStart(6, '0')}.eml`;
    writeFileSync(join(this.dir, file), raw);
    const entry: MailIndexEntry = {
      file,
      message_id: messageId,
      delivery_id: headers.get('x-herald-delivery-id') ?? null,
      from: headers.get('from') ?? null,
      to: rcpt,
      subject: decodeWords(headers.get('subject') ?? null),
      received_at: now.toISOString(),
    };
    appendFileSync(this.indexFile, `${JSON.stringify(entry)}\n`);
    if (messageId) this.messageIds.add(messageId);
    this.received += 1;
    this.firstAt ??= Date.now();
  }
}

/** RFC 2047 encoded words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`) back to text, for a readable index. */
function decodeWords(value: string | null): string | null {
  if (value === null) return null;
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_all, _charset: string, encoding: string, text: string) =>
      encoding.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text
              .replace(/_/g, ' ')
              .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
            'latin1',
          ).toString('utf8'),
    );
}
