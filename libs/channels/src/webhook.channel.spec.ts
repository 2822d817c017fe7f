import { HeraldMetrics } from '@herald/telemetry';
import { ManualClock } from '@herald/time';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OutboundMessage } from './channel';
import { PermanentChannelError, TransientChannelError } from './channel-errors';
import { ChannelRegistry } from './channel-registry';
import { OutboundGuard, type OutboundGuardOptions } from './outbound-guard';
import { WebhookChannel, type WebhookChannelOptions } from './webhook.channel';
import { verifyWebhookSignature } from './webhook-signature';

const SECRET = 'whsec-test-0123456789abcdef';
const message: OutboundMessage = {
  deliveryId: 'd-1',
  campaignId: 'c-1',
  runId: 'r-1',
  contact: {
    id: 'ct-1',
    email: 'ada@example.com',
    firstName: 'Ada',
    lastName: 'Lovelace',
    externalRef: 'crm-42',
  },
  subject: 'Hello',
  body: 'Happy birthday, Ada!',
};

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
}

describe('WebhookChannel', () => {
  let server: Server;
  let url: string;
  const received: Received[] = [];
  let respond: (res: ServerResponse) => void = (res) => res.end();
  const clock = new ManualClock('2026-06-01T12:00:00Z');

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
        respond(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/herald?src=test`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    received.length = 0;
    respond = (res) => res.end();
  });

  const channel = ({
    allowPrivateNetworks = true,
    resolve,
    ...options
  }: Partial<Omit<WebhookChannelOptions, 'guard'>> & Partial<OutboundGuardOptions> = {}) =>
    new WebhookChannel({
      guard: new OutboundGuard({ allowPrivateNetworks, ...(resolve ? { resolve } : {}) }),
      timeoutMs: 2000,
      userAgent: 'Herald/test',
      clock,
      ...options,
    });
  const send = (ch = channel(), key = 'birthday:c-1:ct-1:2026', target = url) =>
    ch.send(message, {
      idempotencyKey: key,
      account: { id: 'acct-1', config: { url: target, secret: SECRET } },
    });

  it('POSTs the DESIGN §6 body, signed, with the Idempotency-Key', async () => {
    respond = (res) => res.writeHead(202, { 'content-type': 'application/json' }).end('{"id":"prov-123"}');
    expect(await send()).toEqual({ providerMessageId: 'prov-123' });
    const [request] = received;
    if (!request) throw new Error('no request received');
    expect(JSON.parse(request.raw)).toEqual({
      delivery_id: 'd-1',
      idempotency_key: 'birthday:c-1:ct-1:2026',
      campaign_id: 'c-1',
      run_id: 'r-1',
      contact: {
        id: 'ct-1',
        email: 'ada@example.com',
        first_name: 'Ada',
        last_name: 'Lovelace',
        external_ref: 'crm-42',
      },
      subject: 'Hello',
      body: 'Happy birthday, Ada!',
      html: null,
      headers: {},
    });
    expect(request.headers['idempotency-key']).toBe('birthday:c-1:ct-1:2026');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['user-agent']).toBe('Herald/test');
    const signature = request.headers['x-herald-signature'] as string;
    expect(signature).toMatch(/^t=1780315200,v1=[0-9a-f]{64}$/);
    const now = clock.nowMs() / 1000;
    expect(verifyWebhookSignature(SECRET, signature, request.raw, 300, now)).toBe(true);
    expect(verifyWebhookSignature('another-secret-0123456', signature, request.raw, 300, now)).toBe(false);
    expect(verifyWebhookSignature(SECRET, signature, request.raw.replace('Ada!', 'Bob!'), 300, now)).toBe(
      false,
    );
    expect(verifyWebhookSignature(SECRET, signature, request.raw, 300, now + 301)).toBe(false);
  });

  it('answers a synthetic provider id stable per delivery key when the body has none', async () => {
    const a = await send(channel(), 'k-1');
    const b = await send(channel(), 'k-1');
    const c = await send(channel(), 'k-2');
    expect(a.providerMessageId).toMatch(/^webhook:[0-9a-f]{32}$/);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it.each([
    [408, undefined, TransientChannelError, undefined],
    [429, '7', TransientChannelError, 7000],
    [429, 'Mon, 01 Jun 2026 12:00:30 GMT', TransientChannelError, 30_000],
    [500, undefined, TransientChannelError, undefined],
    [503, '2', TransientChannelError, 2000],
    [400, undefined, PermanentChannelError, undefined],
    [404, undefined, PermanentChannelError, undefined],
    [410, undefined, PermanentChannelError, undefined],
    [302, undefined, PermanentChannelError, undefined],
  ] as const)('classifies HTTP %d (Retry-After %s)', async (status, retryAfter, kind, retryAfterMs) => {
    respond = (res) =>
      res
        .writeHead(status, retryAfter ? { 'retry-after': retryAfter, location: '/x' } : { location: '/x' })
        .end();
    const error = await send().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(kind);
    expect(error).toMatchObject({ code: `http_${status}` });
    if (error instanceof TransientChannelError) expect(error.retryAfterMs).toBe(retryAfterMs);
    expect(received).toHaveLength(1); // a redirect is not followed
  });

  it('turns a timeout into a transient error', async () => {
    respond = () => undefined; // never answers
    const error = await send(channel({ timeoutMs: 150 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientChannelError);
    expect(error).toMatchObject({ code: 'timeout' });
  });

  it('times out an answer whose body stalls after its headers (the budget covers the whole call)', async () => {
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":'); // and nothing more
    };
    const error = await send(channel({ timeoutMs: 150 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientChannelError);
    expect(error).toMatchObject({ code: 'timeout' });
  });

  it('sends to the URL of the config it is given, also when a reused channel saw another before', async () => {
    const ch = channel();
    const first = { url, secret: SECRET };
    await ch.send(message, { idempotencyKey: 'k-1', account: { id: 'acct-1', config: first } });
    await ch.send(message, { idempotencyKey: 'k-2', account: { id: 'acct-1', config: first } });
    const moved = `${url.split('?')[0]}/moved`;
    await ch.send(message, {
      idempotencyKey: 'k-3',
      account: { id: 'acct-1', config: { url: moved, secret: 'whsec-other-0123456789' } },
    });
    expect(received.map((r) => r.headers['idempotency-key'])).toEqual(['k-1', 'k-2', 'k-3']);
    const last = received[2]!;
    const signature = last.headers['x-herald-signature'] as string;
    const now = Math.floor(clock.nowMs() / 1000);
    expect(verifyWebhookSignature('whsec-other-0123456789', signature, last.raw, 300, now)).toBe(true);
    expect(verifyWebhookSignature(SECRET, signature, last.raw, 300, now)).toBe(false);
    await expect(
      ch.send(message, {
        idempotencyKey: 'k-4',
        account: { id: 'acct-1', config: { url: 'ftp://x', secret: SECRET } },
      }),
    ).rejects.toMatchObject({ code: 'invalid_config' });
  });

  it('turns a refused connection into a transient error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await send(channel(), 'k', `http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientChannelError);
    expect(error).toMatchObject({ code: 'econnrefused' });
  });

  describe('SSRF guard (private networks not allowed)', () => {
    const guarded = (resolve?: (host: string) => Promise<{ address: string; family: 4 | 6 }[]>) =>
      channel({ allowPrivateNetworks: false, ...(resolve ? { resolve } : {}) });

    it.each([
      'http://127.0.0.1:9/x',
      'http://10.1.2.3/x',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]:9/x',
      'http://[::ffff:127.0.0.1]/x',
      'http://100.64.0.1/x',
      'http://172.16.5.4/x',
      'http://192.168.1.1/x',
      'http://0.0.0.0/x',
      'http://[fd00::1]/x',
    ])('refuses %s before connecting', async (target) => {
      const error = await send(guarded(), 'k', target).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PermanentChannelError);
      expect(error).toMatchObject({ code: 'address_refused' });
    });

    it('refuses the loopback test server itself: no request reaches it', async () => {
      const error = await send(guarded()).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'address_refused' });
      expect(received).toHaveLength(0);
    });

    it('refuses a hostname when any of its addresses is private', async () => {
      const lookups: string[] = [];
      const resolve = (host: string) => {
        lookups.push(host);
        return Promise.resolve([
          { address: '93.184.215.14', family: 4 as const },
          { address: '10.0.0.7', family: 4 as const },
        ]);
      };
      const error = await send(guarded(resolve), 'k', 'https://hooks.example.test/in').catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'address_refused' });
      expect(lookups).toEqual(['hooks.example.test']);
    });

    it('pins the connection to the vetted address (no second DNS lookup)', async () => {
      // The resolver answers loopback: allowed here, and the request must reach our server
      // through the pinned address although the name itself resolves nowhere.
      let calls = 0;
      const resolve = () => {
        calls++;
        return Promise.resolve([{ address: '127.0.0.1', family: 4 as const }]);
      };
      const port = new URL(url).port;
      const result = await send(channel({ resolve }), 'k', `http://pinned.invalid:${port}/hook`);
      expect(result.providerMessageId).toMatch(/^webhook:/);
      expect(calls).toBe(1);
      expect(received[0]?.headers.host).toBe(`pinned.invalid:${port}`);
    });

    it('refuses non-http schemes and rejects an invalid config as permanent', async () => {
      await expect(send(guarded(), 'k', 'ftp://example.com/')).rejects.toMatchObject({
        code: 'invalid_config',
      });
      await expect(
        channel().send(message, { idempotencyKey: 'k', account: { id: 'a', config: { url } } }),
      ).rejects.toBeInstanceOf(PermanentChannelError);
    });
  });

  it('is counted in herald_channel_requests_total through the registry', async () => {
    const metrics = new HeraldMetrics();
    const registry = new ChannelRegistry([channel()], metrics);
    const count = async (result: string) =>
      (await metrics.channelRequests.get()).values.find(
        (v) => v.labels.channel === 'webhook' && v.labels.result === result,
      )?.value ?? 0;
    const before = { ok: await count('ok'), transient: await count('transient') };
    await registry
      .get('webhook')
      .send(message, { idempotencyKey: 'm', account: { id: 'a', config: { url, secret: SECRET } } });
    respond = (res) => res.writeHead(503).end();
    await expect(
      registry
        .get('webhook')
        .send(message, { idempotencyKey: 'm', account: { id: 'a', config: { url, secret: SECRET } } }),
    ).rejects.toBeInstanceOf(TransientChannelError);
    expect((await count('ok')) - before.ok).toBe(1);
    expect((await count('transient')) - before.transient).toBe(1);
    expect(() => registry.get('carrier-pigeon')).toThrow(/unknown channel/);
  });
});
