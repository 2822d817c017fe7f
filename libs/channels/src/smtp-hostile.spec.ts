import { SMTPServer } from 'smtp-server';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { OutboundMessage } from './channel';
import { ChannelError, PermanentChannelError, TransientChannelError } from './channel-errors';
import { OutboundGuard } from './outbound-guard';
import { SmtpChannel } from './smtp.channel';

/** What a hostile server tries to get recorded: a secret and markup. */
const HOSTILE = 'token=hunter2 <script>alert(1)</script>';

const message: OutboundMessage = {
  deliveryId: 'd-1',
  campaignId: 'c-1',
  runId: null,
  contact: { id: 'ct-1', email: 'ada@example.com', firstName: 'Ada', lastName: null, externalRef: null },
  subject: 'Hello',
  body: 'Happy birthday!',
};

/** A TCP server on loopback playing a broken or hostile SMTP server; counts connections. */
async function startRaw(play: (socket: Socket) => void) {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => undefined); // the client hanging up mid-write is expected here
    socket.on('close', () => sockets.delete(socket));
    play(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Answers each command line the client sends. */
const onLines = (socket: Socket, answer: (line: string) => string | undefined) => {
  let buffered = '';
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let end: number;
    while ((end = buffered.indexOf('\r\n')) >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const reply = answer(line);
      if (reply === undefined) socket.destroy();
      else socket.write(reply);
    }
  });
};

async function sendTo(port: number, timeoutMs = 2000, config: Record<string, unknown> = {}) {
  const channel = new SmtpChannel({ guard: new OutboundGuard({ allowPrivateNetworks: true }), timeoutMs });
  try {
    const error = await channel
      .send(message, {
        idempotencyKey: 'k',
        account: {
          id: 'acct-hostile',
          config: {
            host: '127.0.0.1',
            port,
            secure: false,
            username: 'herald',
            password: 's3cret',
            from: 'Herald <noreply@example.com>',
            reject_unauthorized: false,
            ...config,
          },
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    if (!(error instanceof ChannelError)) throw new Error(`expected a ChannelError, got ${String(error)}`);
    return error;
  } finally {
    await channel.close();
  }
}

describe('SmtpChannel against hostile and broken servers: records a category, never their text', () => {
  it.each<
    [string, (socket: Socket) => void, typeof TransientChannelError | typeof PermanentChannelError, string]
  >([
    [
      'a 5xx greeting with a hostile banner',
      (s) => s.write(`554 5.7.1 ${HOSTILE}\r\n`),
      PermanentChannelError,
      'greeting',
    ],
    [
      'a 4xx greeting with a hostile banner',
      (s) => s.write(`421 ${HOSTILE}\r\n`),
      TransientChannelError,
      'greeting',
    ],
    ['a greeting that is not SMTP', (s) => s.write(`${HOSTILE}\r\n`), TransientChannelError, 'greeting'],
    [
      'a multi-line hostile greeting',
      (s) => s.write(`554-${HOSTILE}\r\n554-${HOSTILE}\r\n554 ${HOSTILE}\r\n`),
      PermanentChannelError,
      'greeting',
    ],
    [
      'a friendly banner, then hostile replies to EHLO and HELO',
      (s) => {
        s.write(`220 ${HOSTILE}\r\n`);
        onLines(s, () => `554 ${HOSTILE}\r\n`);
      },
      TransientChannelError,
      'protocol',
    ],
    ['a connection dropped at once', (s) => s.destroy(), TransientChannelError, 'closed'],
    [
      'a connection dropped after the greeting',
      (s) => {
        s.write('220 mx.example ESMTP\r\n');
        onLines(s, () => undefined);
      },
      TransientChannelError,
      'closed',
    ],
    [
      'a connection closed with a hostile parting reply',
      (s) => s.end(`421 ${HOSTILE}\r\n`),
      TransientChannelError,
      'greeting',
    ],
  ])('%s', async (_name, play, kind, category) => {
    const server = await startRaw(play);
    try {
      const error = await sendTo(server.port);
      // The server was reached (nodemailer's pool tries again after a silent close).
      expect(server.connections()).toBeGreaterThanOrEqual(1);
      expect(error).toBeInstanceOf(kind);
      expect(error.code).toBe(category);
      expect(error.message).toMatch(new RegExp(`^smtp connection failed: ${category}\\b`));
      expect(error.message).not.toMatch(/hunter2|script/);
      expect(error.cause).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('a server that never greets: timeout', async () => {
    const server = await startRaw(() => undefined);
    try {
      const error = await sendTo(server.port, 1000);
      expect(error).toBeInstanceOf(TransientChannelError);
      expect(error).toMatchObject({ code: 'timeout' });
      // Usually the greeting's timer fires; on a loaded machine the connection's or the socket's may fire first.
      expect(error.message).toMatch(/^smtp connection failed: timeout \((greeting|connect|socket)\)$/);
    } finally {
      await server.close();
    }
  });

  it('a certificate that does not verify: tls, without the certificate text', async () => {
    // smtp-server's built-in certificate is self-signed: with verification on it must fail.
    const server = new SMTPServer({ logger: false, authOptional: true });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const error = await sendTo((server.server.address() as AddressInfo).port, 2000, {
        host: '127.0.0.1',
        require_tls: true,
        reject_unauthorized: true,
      });
      expect(error).toBeInstanceOf(TransientChannelError);
      expect(error.code).toBe('tls');
      expect(error.message).toMatch(/^smtp connection failed: tls( \([A-Z0-9_, ]+\))?$/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
