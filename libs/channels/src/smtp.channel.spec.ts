import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import type { OutboundMessage } from './channel';
import { PermanentChannelError, TransientChannelError } from './channel-errors';
import { messageIdFor } from './message-id';
import { classifySmtpError, SmtpChannel } from './smtp.channel';

const message = (email: string): OutboundMessage => ({
  deliveryId: 'd-1',
  campaignId: 'c-1',
  runId: null,
  contact: { id: 'ct-1', email, firstName: 'Ada', lastName: null, externalRef: null },
  subject: 'Hello',
  body: 'Happy birthday!',
});

/** A local SMTP sink: stores accepted messages, answers 451 / 550 for chosen recipients. */
describe('SmtpChannel against a local smtp-server', () => {
  let server: SMTPServer;
  let port: number;
  const stored: { to: string[]; raw: string; user: string | undefined }[] = [];
  const channel = new SmtpChannel({ timeoutMs: 5000 });

  beforeAll(async () => {
    server = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === 'herald' && auth.password === 's3cret') callback(null, { user: auth.username });
        else callback(Object.assign(new Error('Invalid credentials'), { responseCode: 535 }));
      },
      onRcptTo(address, _session, callback) {
        if (address.address.startsWith('busy@')) {
          callback(Object.assign(new Error('Mailbox busy, try later'), { responseCode: 451 }));
        } else if (address.address.startsWith('nobody@')) {
          callback(Object.assign(new Error('No such user'), { responseCode: 550 }));
        } else callback();
      },
      onData(stream: SMTPServerDataStream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          stored.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
            user: session.user as string | undefined,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await channel.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const account = (overrides: Record<string, unknown> = {}) => ({
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

  it('authenticates, delivers, and derives a stable Message-ID from the delivery key', async () => {
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
    const ids = stored.slice(-3).map((m) => /^Message-ID: (.*)$/im.exec(m.raw)?.[1]?.trim());
    expect(ids).toEqual([first.providerMessageId, first.providerMessageId, other.providerMessageId]);
    const last = stored.at(-1);
    expect(last?.to).toEqual(['ada@example.com']);
    expect(last?.user).toBe('herald');
    expect(last?.raw).toMatch(/^Subject: Hello\r?$/m);
    expect(last?.raw).toMatch(/^X-Herald-Delivery-Id: d-1\r?$/im);
    expect(last?.raw).toContain('Happy birthday!');
  });

  it('classifies a 4xx reply as transient and a 5xx reply as permanent', async () => {
    const busy = await channel
      .send(message('busy@example.com'), { idempotencyKey: 'k1', account: account() })
      .catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(TransientChannelError);
    expect(busy).toMatchObject({ code: 'smtp_451' });
    const nobody = await channel
      .send(message('nobody@example.com'), { idempotencyKey: 'k2', account: account() })
      .catch((e: unknown) => e);
    expect(nobody).toBeInstanceOf(PermanentChannelError);
    expect(nobody).toMatchObject({ code: 'smtp_550' });
  });

  it('rebuilds the pooled transport when the account config changes (bad password → 535 permanent)', async () => {
    const error = await channel
      .send(message('ada@example.com'), { idempotencyKey: 'k3', account: account({ password: 'wrong' }) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentChannelError);
    expect(error).toMatchObject({ code: 'smtp_535' });
    await expect(
      channel.send(message('ada@example.com'), { idempotencyKey: 'k4', account: account() }),
    ).resolves.toBeDefined();
  });

  it('fails transiently when the server cannot be reached, permanently on a bad config or no recipient', async () => {
    const down = new SmtpChannel({ timeoutMs: 2000 });
    try {
      const unreachable = await down
        .send(message('ada@example.com'), { idempotencyKey: 'k5', account: account({ port: 1 }) })
        .catch((e: unknown) => e);
      expect(unreachable).toBeInstanceOf(TransientChannelError);
    } finally {
      await down.close();
    }
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

  it('classifies errors without a reply code', () => {
    expect(classifySmtpError(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }))).toBeInstanceOf(
      TransientChannelError,
    );
    expect(
      classifySmtpError(Object.assign(new Error('no recipients'), { code: 'EENVELOPE' })),
    ).toBeInstanceOf(PermanentChannelError);
    expect(
      classifySmtpError(Object.assign(new Error('x'), { code: 'EENVELOPE', responseCode: 452 })),
    ).toBeInstanceOf(TransientChannelError);
  });
});
