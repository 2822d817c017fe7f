import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * An HTTP/1.1 request written by hand on a raw socket, so a test can do what fetch never does:
 * send the headers and the start of a body, then nothing (or hang up). `answer` is what the
 * server wrote before closing the connection (undefined when it closed without answering).
 */
export class StalledRequest {
  readonly answer: Promise<RawAnswer | undefined>;
  /** When the server's answer (or the close) arrived, in performance.now() time. */
  answeredAt = 0;

  private constructor(private readonly socket: Socket) {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined); // a reset is an answer too: the close below reports it
    this.answer = new Promise((resolve) =>
      socket.once('close', () => {
        this.answeredAt = performance.now();
        resolve(parseAnswer(Buffer.concat(chunks).toString('utf8')));
      }),
    );
  }

  /** Connects and writes the head and `bodyStart` (chunked transfer: no length is promised). */
  static async open(
    url: string,
    path: string,
    headers: Record<string, string>,
    bodyStart: string,
  ): Promise<StalledRequest> {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const request = new StalledRequest(socket);
    const head = [
      `POST ${path} HTTP/1.1`,
      `Host: ${hostname}:${port}`,
      'Transfer-Encoding: chunked',
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    ].join('\r\n');
    await request.write(`${head}\r\n\r\n`);
    if (bodyStart) await request.send(bodyStart);
    return request;
  }

  /** One more chunk of the body. */
  send(text: string): Promise<void> {
    const bytes = Buffer.from(text);
    return this.write(`${bytes.length.toString(16)}\r\n${text}\r\n`);
  }

  /** The client goes away mid-body. */
  abort(): void {
    this.socket.destroy();
  }

  private write(text: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.write(text, (error) => (error ? reject(error) : resolve())),
    );
  }
}

function parseAnswer(raw: string): RawAnswer | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body: raw.slice(end + 4) };
}
