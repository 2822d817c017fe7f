import { Test } from '@nestjs/testing';
import { ConfigModule } from '@herald/config';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { register } from 'prom-client';
import { ChannelRegistry } from './channel-registry';
import { ChannelsModule } from './channels.module';

const BASE_ENV = { HERALD_ADMIN_KEY: 'x'.repeat(40), HERALD_ENCRYPTION_KEY: `k1:${'0f'.repeat(32)}` };

/** The switch read from the environment reaches both channels through one guard. */
describe('ChannelsModule and the private-network switch', () => {
  let server: SMTPServer;
  let port: number;
  let connections = 0;
  let delivered = 0;

  beforeAll(async () => {
    server = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      logger: false,
      onAuth(auth, _session, callback) {
        callback(null, { user: auth.username });
      },
      onConnect(_session, callback) {
        connections += 1;
        callback();
      },
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => {
          delivered += 1;
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function sendWith(env: Record<string, string>) {
    // prom-client keeps one process-wide registry; each module compiled here registers its metrics.
    register.clear();
    // ChannelsModule brings what it needs (clock, metrics); the root provides only the config.
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot({ env: { ...BASE_ENV, ...env } }), ChannelsModule],
    }).compile();
    const registry = moduleRef.get(ChannelRegistry);
    const before = { connections, delivered };
    const send = (channel: 'smtp' | 'webhook', config: Record<string, unknown>) =>
      registry
        .get(channel)
        .send(
          {
            deliveryId: 'd-1',
            campaignId: 'c-1',
            runId: null,
            contact: {
              id: 'ct-1',
              email: 'ada@example.com',
              firstName: null,
              lastName: null,
              externalRef: null,
            },
            subject: 'Hi',
            body: 'Hello',
          },
          { idempotencyKey: 'k-1', account: { id: 'acct', config } },
        )
        .then(
          () => 'sent',
          (e: { code?: string }) => e.code,
        );
    try {
      const smtp = await send('smtp', {
        host: '127.0.0.1',
        port,
        secure: false,
        username: 'herald',
        password: 's3cret-password',
        from: 'Herald <noreply@example.com>',
      });
      // The webhook side of the same guard: refused before connecting, or a refused connection.
      const webhook = await send('webhook', {
        url: 'http://127.0.0.1:1/hook',
        secret: 'whsec-0123456789abcdef',
      });
      return {
        smtp,
        webhook,
        connections: connections - before.connections,
        delivered: delivered - before.delivered,
      };
    } finally {
      await moduleRef.close();
    }
  }

  it('refuses loopback destinations by default: the server sees no connection', async () => {
    expect(await sendWith({})).toEqual({
      smtp: 'address_refused',
      webhook: 'address_refused',
      connections: 0,
      delivered: 0,
    });
  });

  it.each(['OUTBOUND_ALLOW_PRIVATE_NETWORKS', 'OUTBOUND_ALLOW_PRIVATE_NETWORKS'])(
    'allows them when %s=true',
    async (name) => {
      const result = await sendWith({ [name]: 'true' });
      expect(result).toMatchObject({ smtp: 'sent', connections: 1, delivered: 1 });
      // Past the guard, the webhook now tries to connect (and port 1 refuses).
      expect(result.webhook).toBe('econnrefused');
    },
  );
});
