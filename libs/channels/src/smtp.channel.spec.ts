import { readMime } from '@herald/testing';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerOptions } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { OutboundMessage } from './channel';
import { PermanentChannelError, TransientChannelError } from './channel-errors';
import { messageIdFor } from './message-id';
import { OutboundGuard, type ResolvedAddress } from './outbound-guard';
import { SmtpChannel, type SmtpChannelOptions } from './smtp.channel';

const message = (email: string): OutboundMessage => ({
  deliveryId: 'd-1',
  campaignId: 'c-1',
  runId: null,
  contact: { id: 'ct-1', email, firstName: 'Ada', lastName: null, externalRef: null },
  subject: 'Hello',
  body: 'Happy birthday!',
});

interface Sink {
  readonly port: number;
  readonly stored: { to: string[]; raw: string; user: string | undefined }[];
  /** Connections accepted so far. */
  connections: number;
  /** The TLS server name (SNI) each STARTTLS session asked for. */
  readonly servernames: (string | false | null)[];
  close(): Promise<void>;
}

/**
 * A local SMTP sink on a loopback address: authenticates herald/s3cret, stores accepted
 * messages, answers 451 / 550 for busy@ / nobody@ recipients, counts connections.
 */
async function startSink(host: string, port = 0, options: Partial<SMTPServerOptions> = {}): Promise<Sink> {
  const sink = { stored: [], connections: 0, servernames: [] } as unknown as Sink & { port: number };
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onConnect(_session, callback) {
      sink.connections += 1;
      callback();
    },
    onSecure(socket, _session, callback) {
      sink.servernames.push((socket as TLSSocket).servername);
      callback();
    },
    onAuth(auth, _session, callback) {
      if (auth.username === 'herald' && auth.password === 's3cret') callback(null, { user: auth.username });
      else callback(Object.assign(new Error('Invalid credentials for hunter2'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith('busy@')) {
        callback(Object.assign(new Error('Mailbox busy, token=hunter2'), { responseCode: 451 }));
      } else if (address.address.startsWith('nobody@')) {
        callback(Object.assign(new Error('No such user, token=hunter2'), { responseCode: 550 }));
      } else callback();
    },
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        sink.stored.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          user: session.user as string | undefined,
        });
        callback();
      });
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  sink.port = (server.server.address() as AddressInfo).port;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}

const accountOn = (port: number, overrides: Record<string, unknown> = {}) => ({
  id: 'acct-smtp',
  config: {
    host: '127.0.0.1',
    port,
    secure: false,
    username: 'herald',
    password: 's3cret',
    from: 'Herald Test <noreply@example.com>',
    reject_unauthorized: false,
    ...overrides,
  },
});

/** A resolver that answers from a script, one answer per call (the last one repeats). */
function scripted(...answers: ResolvedAddress[][]) {
  const calls: string[] = [];
  const resolve = (host: string) => {
    calls.push(host);
    return Promise.resolve(answers[Math.min(calls.length, answers.length) - 1] ?? []);
  };
  return { calls, resolve };
}

const channels: SmtpChannel[] = [];
function smtpChannel(
  guard: { allowPrivateNetworks: boolean; resolve?: ReturnType<typeof scripted>['resolve'] },
  options: Partial<Omit<SmtpChannelOptions, 'guard'>> = {},
): SmtpChannel {
  const channel = new SmtpChannel({ guard: new OutboundGuard(guard), timeoutMs: 5000, ...options });
  channels.push(channel);
  return channel;
}
/** Closes the channels first, so a server closing after them has no pooled connection to wait for. */
async function closeChannels(): Promise<void> {
  await Promise.all(channels.splice(0).map((c) => c.close()));
}
afterEach(closeChannels);

describe('SmtpChannel against a local smtp-server', () => {
  let sink: Sink;
  const account = (overrides: Record<string, unknown> = {}) => accountOn(sink.port, overrides);

  beforeAll(async () => {
    sink = await startSink('127.0.0.1');
  });
  afterAll(async () => {
    await closeChannels();
    await sink.close();
  });

  it('authenticates, delivers, and derives a stable Message-ID from the delivery key', async () => {
    const channel = smtpChannel({ allowPrivateNetworks: true });
    const first = await channel.send(message('ada@example.com'), {
      idempotencyKey: 'birthday:c-1:ct-1:2026',
      account: account(),
    });
    const again = await channel.send(message('ada@example.com'), {
      idempotencyKey: 'birthday:c-1:ct-1:2026',
      account: account(),
    });
    const other = await channel.send(message('ada@example.com'), {
      idempotencyKey: 'birthday:c-1:ct-1:2027',
      account: account(),
    });
    expect(first.providerMessageId).toBe(messageIdFor('birthday:c-1:ct-1:2026'));
    expect(first.providerMessageId).toMatch(/^<[0-9a-f]{32}@herald>$/);
    expect(again).toEqual(first);
    expect(other.providerMessageId).not.toBe(first.providerMessageId);
    const ids = sink.stored.slice(-3).map((m) => /^Message-ID: (.*)$/im.exec(m.raw)?.[1]?.trim());
    expect(ids).toEqual([first.providerMessageId, first.providerMessageId, other.providerMessageId]);
    const last = sink.stored.at(-1);
    expect(last?.to).toEqual(['ada@example.com']);
    expect(last?.user).toBe('herald');
    expect(last?.raw).toMatch(/^Subject: Hello\r?$/m);
    expect(last?.raw).toMatch(/^X-Herald-Delivery-Id: d-1\r?$/im);
    expect(last?.raw).toContain('Happy birthday!');
  });

  it('sends the text and HTML parts as multipart/alternative, with the message headers', async () => {
    const channel = smtpChannel({ allowPrivateNetworks: true });
    await channel.send(
      {
        ...message('ada@example.com'),
        body: 'Hello Ada — naïve café\n\nUnsubscribe: https://mail.example/u/abc',
        html: '<p>Hello <b>Ada</b> — naïve café</p>',
        headers: {
          'List-Unsubscribe': '<https://mail.example/u/abc>',
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        },
      },
      { idempotencyKey: 'broadcast:r-1:ct-1', account: account() },
    );
    const mail = readMime(sink.stored.at(-1)!.raw);
    expect(mail.contentType).toBe('multipart/alternative');
    expect(mail.headers.get('list-unsubscribe')).toBe('<https://mail.example/u/abc>');
    expect(mail.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(mail.headers.get('x-herald-delivery-id')).toBe('d-1');
    expect(mail.parts.map((p) => [p.contentType, p.body.trim()])).toEqual([
      ['text/plain', 'Hello Ada — naïve café\n\nUnsubscribe: https://mail.example/u/abc'],
      ['text/html', '<p>Hello <b>Ada</b> — naïve café</p>'],
    ]);
  });

  it('classifies a 4xx reply as transient and a 5xx reply as permanent, recording no server text', async () => {
    const channel = smtpChannel({ allowPrivateNetworks: true });
    const busy = await channel
      .send(message('busy@example.com'), { idempotencyKey: 'k1', account: account() })
      .catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(TransientChannelError);
    expect(busy).toMatchObject({ code: 'smtp_451', message: 'smtp 451 at RCPT TO' });
    const nobody = await channel
      .send(message('nobody@example.com'), { idempotencyKey: 'k2', account: account() })
      .catch((e: unknown) => e);
    expect(nobody).toBeInstanceOf(PermanentChannelError);
    expect(nobody).toMatchObject({ code: 'smtp_550', message: 'smtp 550 at RCPT TO' });
  });

  it('rebuilds the pooled transport when the account config changes (bad password → 535 permanent)', async () => {
    const channel = smtpChannel({ allowPrivateNetworks: true });
    const error = await channel
      .send(message('ada@example.com'), { idempotencyKey: 'k3', account: account({ password: 'wrong' }) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentChannelError);
    expect(error).toMatchObject({ code: 'smtp_535' });
    expect((error as Error).message).not.toContain('hunter2');
    await expect(
      channel.send(message('ada@example.com'), { idempotencyKey: 'k4', account: account() }),
    ).resolves.toBeDefined();
  });

  it('fails transiently when the server cannot be reached, permanently on a bad config or no recipient', async () => {
    const channel = smtpChannel({ allowPrivateNetworks: true }, { timeoutMs: 2000 });
    const unreachable = await channel
      .send(message('ada@example.com'), { idempotencyKey: 'k5', account: account({ port: 1 }) })
      .catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(TransientChannelError);
    expect(unreachable).toMatchObject({
      code: 'refused',
      message: 'smtp connection failed: refused (ECONNREFUSED)',
    });
    await expect(
      channel.send(message('ada@example.com'), {
        idempotencyKey: 'k6',
        account: { id: 'x', config: { host: 'h' } },
      }),
    ).rejects.toMatchObject({ code: 'invalid_config' });
    await expect(
      channel.send(
        { ...message('x@example.com'), contact: { ...message('').contact, email: null } },
        { idempotencyKey: 'k7', account: account() },
      ),
    ).rejects.toMatchObject({ code: 'no_recipient' });
  });
});

describe('SmtpChannel behind the outbound address guard', () => {
  let sink: Sink;
  beforeEach(async () => {
    sink = await startSink('127.0.0.1');
  });
  afterEach(async () => {
    await closeChannels();
    await sink.close();
  });

  it.each(['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]'])(
    'refuses %s when private networks are not allowed: no connection reaches the server',
    async (host) => {
      const error = await smtpChannel({ allowPrivateNetworks: false })
        .send(message('ada@example.com'), { idempotencyKey: 'g1', account: accountOn(sink.port, { host }) })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PermanentChannelError);
      expect(error).toMatchObject({ code: 'address_refused' });
      expect((error as Error).message).toMatch(/^smtp destination .* is not a public address/);
      expect(sink.connections).toBe(0);
      expect(sink.stored).toHaveLength(0);
    },
  );

  it('delivers to the same server when private networks are allowed', async () => {
    await smtpChannel({ allowPrivateNetworks: true }).send(message('ada@example.com'), {
      idempotencyKey: 'g2',
      account: accountOn(sink.port, { host: 'localhost' }),
    });
    expect(sink.connections).toBe(1);
    expect(sink.stored).toHaveLength(1);
  });

  it('refuses a name with any private address, resolving it only through the guard', async () => {
    const { calls, resolve } = scripted([
      { address: '93.184.215.14', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ]);
    const error = await smtpChannel({ allowPrivateNetworks: false, resolve })
      .send(message('ada@example.com'), {
        idempotencyKey: 'g3',
        account: accountOn(sink.port, { host: 'mail.herald.invalid' }),
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'address_refused' });
    expect(calls).toEqual(['mail.herald.invalid']);
    expect(sink.connections).toBe(0);
  });

  it('reports a name that does not resolve as a transient dns failure', async () => {
    const error = await smtpChannel({ allowPrivateNetworks: true, resolve: scripted([]).resolve })
      .send(message('ada@example.com'), {
        idempotencyKey: 'g4',
        account: accountOn(sink.port, { host: 'mail.herald.invalid' }),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientChannelError);
    expect(error).toMatchObject({ code: 'dns' });
  });

  it('connects to the vetted address and never resolves the name again; TLS still checks the name', async () => {
    // STARTTLS enabled, to see the name the client asks for (SNI).
    const tlsSink = await startSink('127.0.0.1', 0, { disabledCommands: [] });
    try {
      const { calls, resolve } = scripted(
        [{ address: '127.0.0.1', family: 4 }],
        [{ address: '127.0.0.2', family: 4 }],
      );
      const channel = smtpChannel({ allowPrivateNetworks: true, resolve });
      const account = accountOn(tlsSink.port, { host: 'mail.herald.invalid', require_tls: true });
      await channel.send(message('ada@example.com'), { idempotencyKey: 'p1', account });
      await channel.send(message('bob@example.com'), { idempotencyKey: 'p2', account });
      // The name exists nowhere: had nodemailer resolved it, the sends would have failed.
      expect(calls).toEqual(['mail.herald.invalid']);
      expect(tlsSink.stored.map((m) => m.to)).toEqual([['ada@example.com'], ['bob@example.com']]);
      expect(tlsSink.servernames.length).toBeGreaterThan(0);
      expect(new Set(tlsSink.servernames)).toEqual(new Set(['mail.herald.invalid']));
    } finally {
      await closeChannels();
      await tlsSink.close();
    }
  });

  it('vets the host again after revetAfterMs and follows the server when the name moves', async () => {
    const other = await startSink('127.0.0.2', sink.port);
    try {
      const { calls, resolve } = scripted(
        [{ address: '127.0.0.1', family: 4 }],
        [{ address: '127.0.0.2', family: 4 }],
      );
      const channel = smtpChannel({ allowPrivateNetworks: true, resolve }, { revetAfterMs: 0 });
      const account = accountOn(sink.port, { host: 'mail.herald.invalid' });
      await channel.send(message('ada@example.com'), { idempotencyKey: 'm1', account });
      await channel.send(message('bob@example.com'), { idempotencyKey: 'm2', account });
      expect(calls).toHaveLength(2);
      expect(sink.stored.map((m) => m.to)).toEqual([['ada@example.com']]);
      expect(other.stored.map((m) => m.to)).toEqual([['bob@example.com']]);
    } finally {
      await closeChannels();
      await other.close();
    }
  });

  it("after a failed connection, tries another of the name's addresses", async () => {
    // Only 127.0.0.2 listens on this port: the first address the name has refuses.
    const target = await startSink('127.0.0.2');
    try {
      const { resolve } = scripted([
        { address: '127.0.0.1', family: 4 },
        { address: '127.0.0.2', family: 4 },
      ]);
      const channel = smtpChannel({ allowPrivateNetworks: true, resolve });
      const account = accountOn(target.port, { host: 'mail.herald.invalid' });
      await expect(
        channel.send(message('ada@example.com'), { idempotencyKey: 'f1', account }),
      ).rejects.toMatchObject({ code: 'refused' });
      await channel.send(message('ada@example.com'), { idempotencyKey: 'f1', account });
      expect(target.stored).toHaveLength(1);
    } finally {
      await closeChannels();
      await target.close();
    }
  });

  it('DNS rebinding: a public answer then a private one connects only to the checked address, then refuses', async () => {
    // 3ffe::/16 (the returned 6bone block) is global unicast that nothing routes: the
    // connection to the checked address fails, and never reaches the loopback server.
    const { calls, resolve } = scripted(
      [{ address: '3ffe:ffff::25', family: 6 }],
      [{ address: '127.0.0.1', family: 4 }],
    );
    const channel = smtpChannel({ allowPrivateNetworks: false, resolve }, { timeoutMs: 500 });
    const account = accountOn(sink.port, { host: 'rebind.herald.invalid' });
    const first = await channel
      .send(message('ada@example.com'), { idempotencyKey: 'r1', account })
      .catch((e: unknown) => e);
    expect(first).toBeInstanceOf(TransientChannelError);
    // Not `dns`: nothing resolved the name again, the connection went to the checked address.
    expect(['unreachable', 'timeout']).toContain((first as TransientChannelError).code);
    expect(calls).toHaveLength(1);
    expect(sink.connections).toBe(0);
    // After a connection failure the host is vetted again: now it points inside.
    const second = await channel
      .send(message('ada@example.com'), { idempotencyKey: 'r2', account })
      .catch((e: unknown) => e);
    expect(second).toBeInstanceOf(PermanentChannelError);
    expect(second).toMatchObject({ code: 'address_refused' });
    expect(calls).toHaveLength(2);
    expect(sink.connections).toBe(0);
  });
});
