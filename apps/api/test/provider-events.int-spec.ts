import { messageIdFor } from '@herald/channels';
import { uuidv7 } from '@herald/contacts';
import { snsStringToSign } from '@herald/provider-events';
import { execFileSync } from 'node:child_process';
import {
  createHmac,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign,
  type KeyObject,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from 'prom-client';
import { TestApi } from '../../../test/support/api-app';

type Problem = { type: string; status: number; errors: { field: string; message: string }[] };
type Result = {
  received: number;
  recorded: number;
  replayed: number;
  unmatched: number;
  ignored: number;
  subscription_confirmed?: boolean;
};

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:herald-ses-events';
const MAILGUN_KEY = 'mailgun-signing-key-0123456789abcdef';
const POSTMARK = { username: 'postmark-hook', password: 'pm-password-0123456789' };

/** A stand-in for sns.<region>.amazonaws.com: serves the signing certificate and answers subscription confirmations. */
class LocalSns {
  private constructor(
    private readonly server: Server,
    readonly origin: string,
    readonly key: KeyObject,
    /** What SNS was asked: certificate fetches and subscription confirmations (their tokens). */
    private readonly seen: { certFetches: number; confirmations: string[] },
  ) {}

  get certFetches(): number {
    return this.seen.certFetches;
  }

  get confirmations(): string[] {
    return this.seen.confirmations;
  }

  static async start(): Promise<LocalSns> {
    // A self-signed RSA certificate like the ones SNS signs with (openssl: Node cannot make certificates).
    const dir = mkdtempSync(join(tmpdir(), 'herald-sns-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=sns.eu-west-1.amazonaws.com',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const key = createPrivateKey(readFileSync(join(dir, 'key.pem')));
    rmSync(dir, { recursive: true, force: true });
    const seen = { certFetches: 0, confirmations: [] as string[] };
    const server = createServer((req: IncomingMessage, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/SimpleNotificationService-test.pem') {
        seen.certFetches += 1;
        res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(cert);
      } else if (url.searchParams.get('Action') === 'ConfirmSubscription') {
        seen.confirmations.push(url.searchParams.get('Token') ?? '');
        res.writeHead(200, { 'content-type': 'text/xml' }).end('<ConfirmSubscriptionResponse/>');
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return new LocalSns(server, `http://127.0.0.1:${port}`, key, seen);
  }

  /** An SNS message as SNS posts it, signed (SignatureVersion 1: SHA1, 2: SHA256). */
  message(
    fields: Record<string, string>,
    version: '1' | '2' = '2',
    certUrl = `${this.origin}/SimpleNotificationService-test.pem`,
  ) {
    const message = {
      MessageId: randomUUID(),
      TopicArn: TOPIC,
      Timestamp: new Date().toISOString(),
      SignatureVersion: version,
      SigningCertURL: certUrl,
      ...fields,
    } as Record<string, string>;
    const data = Buffer.from(snsStringToSign(message as never), 'utf8');
    message.Signature = sign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256', data, this.key).toString('base64');
    return message;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('provider events: SendGrid, SES through SNS, Postmark, Mailgun', () => {
  let api: TestApi;
  let sns: LocalSns;
  let tenant: { id: string; key: string };
  let sendgridKeys: { publicKey: KeyObject; privateKey: KeyObject };

  const accounts: Record<string, string> = {};
  const campaigns: Record<string, string> = {};

  const post = async <T = { id: string }>(path: string, body: unknown): Promise<T> => {
    const res = await api.request<T>('POST', path, { key: tenant.key, body });
    if (res.status >= 300) throw new Error(`fixture ${path}: ${res.status} ${res.text}`);
    return res.body;
  };

  /** A sender account with its sequence campaign. */
  const account = async (name: string) => {
    const id = (
      await post('/v1/sender-accounts', {
        name,
        channel: 'webhook',
        config: { url: 'https://hooks.example/in', secret: 'x'.repeat(32) },
      })
    ).id;
    const campaign = (
      await post('/v1/campaigns', {
        name: `${name} sequence`,
        kind: 'sequence',
        sender_account_id: id,
        steps: [
          { delay: 3600, subject: 'One', body: 'One' },
          { delay: 86400, subject: 'Two', body: 'Two' },
        ],
      })
    ).id;
    return { id, campaign };
  };

  /** A contact enrolled in the campaign, with a sent delivery of it: what a provider reports on. */
  const sent = async (provider: string, accountId = accounts[provider]!, campaign = campaigns[provider]!) => {
    const email = `${provider}-${randomUUID().slice(0, 8)}@example.com`;
    const contact = (await post('/v1/contacts', { email })).id;
    await post(`/v1/campaigns/${campaign}/enrollments`, { contact_ids: [contact] });
    const id = uuidv7();
    const key = `seq:${campaign}:${contact}:0`;
    await api.query(
      `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, contact_id, sender_account_id, channel, status, sent_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'webhook', 'sent', now())`,
      [tenant.id, id, key, campaign, contact, accountId],
    );
    return { id, key, contact, email, messageId: messageIdFor(key) };
  };

  const events = (deliveryId: string) =>
    api.query<{
      kind: string;
      bounce_type: string | null;
      source: string;
      machine: boolean;
      url: string | null;
    }>(
      `SELECT kind, bounce_type, source, machine, url FROM engagement_events WHERE tenant_id = $1 AND delivery_id = $2 ORDER BY recorded_at, id`,
      [tenant.id, deliveryId],
    );
  const allEvents = async () =>
    Number((await api.query<{ n: string }>(`SELECT count(*) AS n FROM engagement_events`))[0]!.n);
  const suppressed = async (email: string) =>
    (await api.query(`SELECT 1 FROM suppressions WHERE tenant_id = $1 AND email = $2`, [tenant.id, email]))
      .length > 0;
  const enrollment = async (contact: string) =>
    (
      await api.query<{ status: string; stop_reason: string | null }>(
        `SELECT status, stop_reason FROM enrollments WHERE tenant_id = $1 AND contact_id = $2`,
        [tenant.id, contact],
      )
    )[0]!;
  const metric = async (name: string, labels: Record<string, string>) => {
    const values = (await register.getSingleMetric(name)?.get())?.values ?? [];
    return values
      .filter((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))
      .reduce((sum, v) => sum + v.value, 0);
  };

  // --- each provider's wire format, as its documentation describes it ---

  const sendgrid = (
    body: unknown,
    options: { timestamp?: number; key?: KeyObject; account?: string } = {},
  ) => {
    const raw = JSON.stringify(body);
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const signature = sign(
      'sha256',
      Buffer.from(timestamp + raw),
      options.key ?? sendgridKeys.privateKey,
    ).toString('base64');
    return api.request<Result & Problem>(
      'POST',
      `/v1/provider-events/${options.account ?? accounts.sendgrid}/sendgrid`,
      {
        key: null,
        raw,
        headers: {
          'content-type': 'application/json',
          'x-twilio-email-event-webhook-signature': signature,
          'x-twilio-email-event-webhook-timestamp': timestamp,
        },
      },
    );
  };
  const sgEvent = (
    event: string,
    delivery: { id?: string; messageId?: string },
    extra: Record<string, unknown> = {},
  ) => ({
    email: 'someone@example.com',
    timestamp: Math.floor(Date.now() / 1000),
    event,
    sg_event_id: randomBytes(12).toString('base64url'),
    sg_message_id: `${randomBytes(8).toString('hex')}.filter0001.16648.5515E0B88.0`,
    ...(delivery.messageId ? { 'smtp-id': delivery.messageId } : {}),
    ...(delivery.id ? { herald_delivery_id: delivery.id } : {}),
    ...extra,
  });

  const mailgun = (
    eventData: Record<string, unknown>,
    options: { token?: string; timestamp?: number; key?: string; account?: string } = {},
  ) => {
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const token = options.token ?? randomBytes(25).toString('hex');
    const signature = createHmac('sha256', options.key ?? MAILGUN_KEY)
      .update(timestamp + token)
      .digest('hex');
    return api.request<Result & Problem>(
      'POST',
      `/v1/provider-events/${options.account ?? accounts.mailgun}/mailgun`,
      {
        key: null,
        raw: JSON.stringify({ signature: { timestamp, token, signature }, 'event-data': eventData }),
        headers: { 'content-type': 'application/json' },
      },
    );
  };
  const mgEvent = (
    event: string,
    delivery: { id?: string; messageId?: string },
    extra: Record<string, unknown> = {},
  ) => ({
    event,
    id: randomBytes(11).toString('base64url'),
    timestamp: Date.now() / 1000,
    recipient: 'someone@example.com',
    message: { headers: { 'message-id': delivery.messageId?.replace(/^<|>$/g, '') ?? 'x@mailgun.example' } },
    'user-variables': delivery.id ? { herald_delivery_id: delivery.id } : {},
    ...extra,
  });

  const postmark = (
    body: Record<string, unknown>,
    auth: string | null = `${POSTMARK.username}:${POSTMARK.password}`,
  ) =>
    api.request<Result & Problem>('POST', `/v1/provider-events/${accounts.postmark}/postmark`, {
      key: null,
      raw: JSON.stringify(body),
      headers: {
        'content-type': 'application/json',
        ...(auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {}),
      },
    });

  const ses = (message: Record<string, string>, account = accounts.ses) =>
    api.request<Result & Problem>('POST', `/v1/provider-events/${account}/ses`, {
      key: null,
      raw: JSON.stringify(message),
      headers: {
        'content-type': 'text/plain; charset=UTF-8',
        'x-amz-sns-message-type': message.Type ?? '',
        'x-amz-sns-topic-arn': TOPIC,
      },
    });
  const sesNotification = (
    type: 'Bounce' | 'Complaint' | 'Delivery',
    mail: Record<string, unknown>,
    detail: Record<string, unknown>,
    version: '1' | '2' = '2',
  ) =>
    sns.message(
      {
        Type: 'Notification',
        Message: JSON.stringify({
          eventType: type,
          mail: {
            timestamp: new Date().toISOString(),
            source: 'news@example.com',
            messageId: `0102018${randomBytes(10).toString('hex')}-000000`,
            destination: ['someone@example.com'],
            headersTruncated: false,
            ...mail,
          },
          [type.toLowerCase()]: detail,
        }),
      },
      version,
    );

  beforeAll(async () => {
    sns = await LocalSns.start();
    api = await TestApi.start({
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      SNS_ALLOWED_ORIGIN_PATTERN: sns.origin.replace(/\./g, '\\.'),
      PROVIDER_EVENTS_BODY_LIMIT: '64kb',
      SENDER_HEALTH_MIN_SAMPLE: '10',
    });
    tenant = await api.createTenant('Provider events');
    sendgridKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    for (const provider of ['sendgrid', 'ses', 'postmark', 'mailgun', 'health', 'complaints']) {
      const made = await account(provider);
      accounts[provider] = made.id;
      campaigns[provider] = made.campaign;
    }
    const setUp = async (id: string, body: Record<string, unknown>) => {
      const res = await api.request('PUT', `/v1/sender-accounts/${id}/provider-webhook`, {
        key: tenant.key,
        body,
      });
      if (res.status !== 200) throw new Error(`webhook set-up: ${res.status} ${res.text}`);
    };
    const sendgridPublicKey = sendgridKeys.publicKey
      .export({ format: 'der', type: 'spki' })
      .toString('base64');
    await setUp(accounts.sendgrid!, { provider: 'sendgrid', public_key: sendgridPublicKey });
    await setUp(accounts.ses!, { provider: 'ses', topic_arn: TOPIC });
    await setUp(accounts.postmark!, { provider: 'postmark', ...POSTMARK });
    await setUp(accounts.mailgun!, { provider: 'mailgun', signing_key: MAILGUN_KEY });
    await setUp(accounts.health!, { provider: 'sendgrid', public_key: sendgridPublicKey });
    await setUp(accounts.complaints!, { provider: 'mailgun', signing_key: MAILGUN_KEY });
  });

  afterAll(async () => {
    await api.close();
    await sns.close();
  });

  it('exports every provider × outcome series from the start, at 0 until something happens', async () => {
    const values = (await register.getSingleMetric('herald_provider_events_total')?.get())?.values ?? [];
    const series = values.map((v) => `${String(v.labels.provider)}/${String(v.labels.outcome)}`);
    expect(series).toEqual(
      expect.arrayContaining(['postmark/invalid', 'ses/bad_signature', 'mailgun/unmatched']),
    );
    expect(series).toHaveLength(24);
  });

  describe('setting up an account’s webhook', () => {
    it('keeps the key sealed, shows only the provider and path, and refuses bad settings naming the field', async () => {
      const got = await api.request<{ provider: string; path: string }>(
        'GET',
        `/v1/sender-accounts/${accounts.mailgun}/provider-webhook`,
        { key: tenant.key },
      );
      expect(got.status).toBe(200);
      expect(got.body).toEqual({
        provider: 'mailgun',
        path: `/v1/provider-events/${accounts.mailgun}/mailgun`,
      });
      expect(got.text).not.toContain(MAILGUN_KEY);
      const [row] = await api.query<{ provider_webhook: string; provider_webhook_provider: string }>(
        `SELECT provider_webhook, provider_webhook_provider FROM sender_accounts WHERE id = $1`,
        [accounts.mailgun],
      );
      expect(row!.provider_webhook_provider).toBe('mailgun');
      expect(row!.provider_webhook).not.toContain(MAILGUN_KEY);
      expect(Buffer.from(row!.provider_webhook, 'base64').toString('latin1')).not.toContain(MAILGUN_KEY);

      const bad = await api.request<Problem>(
        'PUT',
        `/v1/sender-accounts/${accounts.mailgun}/provider-webhook`,
        {
          key: tenant.key,
          body: { provider: 'sendgrid', public_key: 'bm90IGEga2V5' },
        },
      );
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e) => e.field)).toEqual(['public_key']);
      const unknown = await api.request<Problem>(
        'PUT',
        `/v1/sender-accounts/${randomUUID()}/provider-webhook`,
        {
          key: tenant.key,
          body: { provider: 'mailgun', signing_key: MAILGUN_KEY },
        },
      );
      expect(unknown.status).toBe(404);
      // The bad request changed nothing.
      expect(
        (
          await api.request('GET', `/v1/sender-accounts/${accounts.mailgun}/provider-webhook`, {
            key: tenant.key,
          })
        ).body,
      ).toEqual(got.body);
    });

    it('refuses events once the webhook is removed, and refuses another tenant’s account', async () => {
      const other = await api.createTenant('Someone else');
      const theirs = await api.request<Problem>(
        'GET',
        `/v1/sender-accounts/${accounts.mailgun}/provider-webhook`,
        {
          key: other.key,
        },
      );
      expect(theirs.status).toBe(404);
      const { id, campaign } = await account('removed');
      await api.request('PUT', `/v1/sender-accounts/${id}/provider-webhook`, {
        key: tenant.key,
        body: { provider: 'mailgun', signing_key: MAILGUN_KEY },
      });
      const delivery = await sent('removed', id, campaign);
      expect((await mailgun(mgEvent('delivered', delivery), { account: id })).status).toBe(200);
      expect(
        (await api.request('DELETE', `/v1/sender-accounts/${id}/provider-webhook`, { key: tenant.key }))
          .status,
      ).toBe(204);
      const refused = await mailgun(mgEvent('opened', delivery), { account: id });
      expect(refused.status).toBe(401);
      expect((await events(delivery.id)).map((e) => e.kind)).toEqual(['delivered']);
    });
  });

  describe('SendGrid', () => {
    it('records a delivered event matched by Message-ID, once: a replayed event changes nothing', async () => {
      const delivery = await sent('sendgrid');
      const event = sgEvent('delivered', { messageId: delivery.messageId });
      const first = await sendgrid([event, sgEvent('processed', { messageId: delivery.messageId })]);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ received: 2, recorded: 1, replayed: 0, unmatched: 0, ignored: 1 });
      expect(await events(delivery.id)).toEqual([
        { kind: 'delivered', bounce_type: null, source: 'sendgrid', machine: false, url: null },
      ]);
      const before = await allEvents();
      const replay = await sendgrid([event]);
      expect(replay.body).toMatchObject({ recorded: 0, replayed: 1 });
      expect(await allEvents()).toBe(before);
      expect(
        await metric('herald_provider_events_total', { provider: 'sendgrid', outcome: 'replay' }),
      ).toBeGreaterThanOrEqual(1);
    });

    it('answers 401 to a bad signature, a foreign key or an old timestamp, and records nothing', async () => {
      const delivery = await sent('sendgrid');
      const body = [sgEvent('delivered', { id: delivery.id })];
      const before = await allEvents();
      const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
      const forged = await sendgrid(body, { key: stranger });
      expect(forged.status).toBe(401);
      expect(forged.headers.get('content-type')).toContain('application/problem+json');
      expect(forged.body.type).toContain('unauthorized');
      expect((await sendgrid(body, { timestamp: Math.floor(Date.now() / 1000) - 3600 })).status).toBe(401);
      const unsigned = await api.request('POST', `/v1/provider-events/${accounts.sendgrid}/sendgrid`, {
        key: null,
        body,
      });
      expect(unsigned.status).toBe(401);
      // Signed for the account, posted as another provider: not configured there.
      const asMailgun = await api.request('POST', `/v1/provider-events/${accounts.sendgrid}/mailgun`, {
        key: null,
        body,
      });
      expect(asMailgun.status).toBe(401);
      expect(await allEvents()).toBe(before);
      expect(
        await metric('herald_provider_events_total', { provider: 'sendgrid', outcome: 'bad_signature' }),
      ).toBeGreaterThanOrEqual(2);
    });

    it('a hard bounce suppresses the address and stops the sequence; a blocked (soft) bounce does not', async () => {
      const hard = await sent('sendgrid');
      const soft = await sent('sendgrid');
      const res = await sendgrid([
        sgEvent('bounce', { id: hard.id }, { type: 'bounce', reason: '550 5.1.1 user unknown' }),
        sgEvent('bounce', { id: soft.id }, { type: 'blocked', reason: '421 try again later' }),
      ]);
      expect(res.body).toMatchObject({ recorded: 2 });
      expect(await events(hard.id)).toMatchObject([{ kind: 'bounced', bounce_type: 'hard' }]);
      expect(await events(soft.id)).toMatchObject([{ kind: 'bounced', bounce_type: 'soft' }]);
      expect(await suppressed(hard.email)).toBe(true);
      expect(await enrollment(hard.contact)).toEqual({ status: 'stopped', stop_reason: 'bounce' });
      const [interaction] = await api.query<{ payload: Record<string, unknown> }>(
        `SELECT payload FROM interactions WHERE contact_id = $1 AND type = 'bounce'`,
        [hard.contact],
      );
      expect(interaction!.payload).toEqual({
        delivery_id: hard.id,
        kind: 'hard',
        reason: '550 5.1.1 user unknown',
      });
      expect(await suppressed(soft.email)).toBe(false);
      expect(await enrollment(soft.contact)).toEqual({ status: 'active', stop_reason: null });
    });

    it('a spam report suppresses and stops as a complaint; opens and clicks are recorded, machine opens flagged', async () => {
      const delivery = await sent('sendgrid');
      const res = await sendgrid([
        sgEvent('open', { id: delivery.id }, { sg_machine_open: true }),
        sgEvent('click', { id: delivery.id }, { url: 'https://example.com/offer' }),
        sgEvent('spamreport', { id: delivery.id }),
      ]);
      expect(res.body).toMatchObject({ recorded: 3 });
      expect(await events(delivery.id)).toEqual([
        { kind: 'opened', bounce_type: null, source: 'sendgrid', machine: true, url: null },
        {
          kind: 'clicked',
          bounce_type: null,
          source: 'sendgrid',
          machine: false,
          url: 'https://example.com/offer',
        },
        { kind: 'complained', bounce_type: null, source: 'sendgrid', machine: false, url: null },
      ]);
      expect(await suppressed(delivery.email)).toBe(true);
      expect(await enrollment(delivery.contact)).toEqual({ status: 'stopped', stop_reason: 'complaint' });
      const [contact] = await api.query<{ status: string }>(`SELECT status FROM contacts WHERE id = $1`, [
        delivery.contact,
      ]);
      expect(contact!.status).toBe('unsubscribed');
    });

    it('answers 200 to events for no delivery of the tenant and records nothing', async () => {
      const before = await allEvents();
      const res = await sendgrid([
        sgEvent('delivered', { id: randomUUID() }),
        sgEvent('bounce', { messageId: messageIdFor('not-a-key') }, { type: 'bounce' }),
        sgEvent('delivered', {}),
      ]);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ recorded: 0, unmatched: 3 });
      expect(await allEvents()).toBe(before);
      expect(
        await metric('herald_provider_events_total', { provider: 'sendgrid', outcome: 'unmatched' }),
      ).toBeGreaterThanOrEqual(3);
    });

    it('refuses bodies that are not JSON (400), too large (413) or of another media type (415), recording nothing', async () => {
      const before = await allEvents();
      const timestamp = String(Math.floor(Date.now() / 1000));
      const raw = 'not json';
      const signature = sign('sha256', Buffer.from(timestamp + raw), sendgridKeys.privateKey).toString(
        'base64',
      );
      const notJson = await api.request<Problem>(
        'POST',
        `/v1/provider-events/${accounts.sendgrid}/sendgrid`,
        {
          key: null,
          raw,
          headers: {
            'content-type': 'application/json',
            'x-twilio-email-event-webhook-signature': signature,
            'x-twilio-email-event-webhook-timestamp': timestamp,
          },
        },
      );
      expect(notJson.status).toBe(400);
      const big = await sendgrid([sgEvent('delivered', {}, { padding: 'x'.repeat(70_000) })]);
      expect(big.status).toBe(413);
      const form = await api.request('POST', `/v1/provider-events/${accounts.sendgrid}/sendgrid`, {
        key: null,
        raw: 'a=b',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(form.status).toBe(415);
      const unknownProvider = await api.request<Problem>(
        'POST',
        `/v1/provider-events/${accounts.sendgrid}/sparkpost`,
        {
          key: null,
          body: [],
        },
      );
      expect(unknownProvider.status).toBe(401);
      expect(unknownProvider.body.errors.map((e) => e.field)).toEqual(['provider']);
      expect(await allEvents()).toBe(before);
    });
    it('finds deliveries by Message-ID through the digest index, never by scanning the ledger', async () => {
      await api.db.query('BEGIN');
      try {
        await api.db.query('SET LOCAL enable_seqscan = off');
        const plan = await api.db.query(
          `EXPLAIN (FORMAT JSON) SELECT id FROM deliveries
            WHERE tenant_id = $1 AND herald_message_digest(delivery_key) = ANY($2::text[])`,
          [tenant.id, ['4e1b2c0d9a8f7e6d5c4b3a2910f8e7d6']],
        );
        expect(JSON.stringify(plan.rows)).toContain('idx_deliveries_message_digest');
      } finally {
        await api.db.query('ROLLBACK');
      }
    });
  });

  describe('Mailgun', () => {
    it('records delivered by user-variables; a permanent failure is a hard bounce that suppresses, a temporary one is soft', async () => {
      const delivered = await sent('mailgun');
      const hard = await sent('mailgun');
      const soft = await sent('mailgun');
      expect((await mailgun(mgEvent('delivered', { id: delivered.id }))).body).toMatchObject({ recorded: 1 });
      expect(
        (
          await mailgun(
            mgEvent(
              'failed',
              { messageId: hard.messageId },
              {
                severity: 'permanent',
                reason: 'bounce',
                'delivery-status': { code: 550, description: 'No such mailbox' },
              },
            ),
          )
        ).body,
      ).toMatchObject({ recorded: 1 });
      await mailgun(
        mgEvent('failed', { id: soft.id }, { severity: 'temporary', 'delivery-status': { code: 452 } }),
      );
      expect(await events(delivered.id)).toMatchObject([{ kind: 'delivered', source: 'mailgun' }]);
      expect(await events(hard.id)).toMatchObject([{ kind: 'bounced', bounce_type: 'hard' }]);
      expect(await events(soft.id)).toMatchObject([{ kind: 'bounced', bounce_type: 'soft' }]);
      expect(await suppressed(hard.email)).toBe(true);
      expect((await enrollment(hard.contact)).status).toBe('stopped');
      expect(await suppressed(soft.email)).toBe(false);
    });

    it('refuses a reused token, an old timestamp or a bad signature (401); a new request for a recorded event changes nothing', async () => {
      const delivery = await sent('mailgun');
      const event = mgEvent('opened', { id: delivery.id });
      const token = randomBytes(25).toString('hex');
      expect((await mailgun(event, { token })).body).toMatchObject({ recorded: 1 });
      const before = await allEvents();
      const reused = await mailgun(mgEvent('clicked', { id: delivery.id }, { url: 'https://example.com' }), {
        token,
      });
      expect(reused.status).toBe(401);
      expect(
        (
          await mailgun(mgEvent('clicked', { id: delivery.id }), {
            timestamp: Math.floor(Date.now() / 1000) - 3600,
          })
        ).status,
      ).toBe(401);
      expect(
        (await mailgun(mgEvent('clicked', { id: delivery.id }), { key: 'another-signing-key-000000' }))
          .status,
      ).toBe(401);
      expect(await allEvents()).toBe(before);
      const again = await mailgun(event);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ recorded: 0, replayed: 1 });
      expect(await allEvents()).toBe(before);
      expect(
        await metric('herald_provider_events_total', { provider: 'mailgun', outcome: 'replay' }),
      ).toBeGreaterThanOrEqual(3);
    });
  });

  describe('Postmark', () => {
    const base = (delivery: { id: string }) => ({
      MessageID: randomUUID(),
      Recipient: 'someone@example.com',
      Metadata: { herald_delivery_id: delivery.id },
      MessageStream: 'outbound',
    });

    it('checks the Basic credentials (Postmark signs nothing): missing or wrong → 401, nothing recorded', async () => {
      const delivery = await sent('postmark');
      const body = { RecordType: 'Delivery', ...base(delivery), DeliveredAt: new Date().toISOString() };
      const before = await allEvents();
      expect((await postmark(body, null)).status).toBe(401);
      expect((await postmark(body, `${POSTMARK.username}:wrong-password-000000`)).status).toBe(401);
      expect((await postmark(body, `someone:${POSTMARK.password}`)).status).toBe(401);
      expect(await allEvents()).toBe(before);
      const ok = await postmark(body);
      expect(ok.body).toMatchObject({ recorded: 1 });
      expect((await postmark(body)).body).toMatchObject({ recorded: 0, replayed: 1 });
      expect(await events(delivery.id)).toMatchObject([{ kind: 'delivered', source: 'postmark' }]);
    });

    it('a HardBounce suppresses and stops; a SoftBounce does not; a SpamComplaint suppresses', async () => {
      const hard = await sent('postmark');
      const soft = await sent('postmark');
      const complaint = await sent('postmark');
      const bounce = (delivery: { id: string }, type: string, typeCode: number) => ({
        RecordType: 'Bounce',
        ID: Math.floor(Math.random() * 1e12),
        Type: type,
        TypeCode: typeCode,
        Name: type,
        Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
        Details: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.',
        Email: 'someone@example.com',
        BouncedAt: new Date().toISOString(),
        Inactive: true,
        CanActivate: true,
        ...base(delivery),
      });
      expect((await postmark(bounce(hard, 'HardBounce', 1))).body).toMatchObject({ recorded: 1 });
      expect((await postmark(bounce(soft, 'SoftBounce', 4096))).body).toMatchObject({ recorded: 1 });
      expect(
        (await postmark({ ...bounce(complaint, 'SpamComplaint', 512), RecordType: 'SpamComplaint' })).body,
      ).toMatchObject({
        recorded: 1,
      });
      expect(await events(hard.id)).toMatchObject([{ kind: 'bounced', bounce_type: 'hard' }]);
      expect(await events(soft.id)).toMatchObject([{ kind: 'bounced', bounce_type: 'soft' }]);
      expect(await events(complaint.id)).toMatchObject([{ kind: 'complained' }]);
      expect(await suppressed(hard.email)).toBe(true);
      expect(await suppressed(soft.email)).toBe(false);
      expect(await suppressed(complaint.email)).toBe(true);
      expect((await enrollment(complaint.contact)).status).toBe('stopped');
    });
  });

  describe('SES through SNS', () => {
    it('confirms a subscription from the account’s topic by GETting its SubscribeURL through the guard', async () => {
      const token = randomBytes(32).toString('hex');
      const confirmation = sns.message({
        Type: 'SubscriptionConfirmation',
        Token: token,
        Message: `You have chosen to subscribe to the topic ${TOPIC}. To confirm the subscription, visit the SubscribeURL included in this message.`,
        SubscribeURL: `${sns.origin}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=${token}`,
      });
      const res = await ses(confirmation);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ subscription_confirmed: true });
      expect(sns.confirmations).toEqual([token]);
    });

    it('refuses another topic, a bad signature and a certificate from anywhere but SNS (401), fetching nothing there', async () => {
      const delivery = await sent('ses');
      const notification = sesNotification(
        'Delivery',
        { commonHeaders: { messageId: delivery.messageId } },
        {
          timestamp: new Date().toISOString(),
          recipients: ['someone@example.com'],
        },
      );
      const before = await allEvents();
      const otherTopic = sns.message({
        Type: 'Notification',
        Message: notification.Message!,
        TopicArn: `${TOPIC}-other`,
      });
      expect((await ses(otherTopic)).status).toBe(401);
      expect(
        (await ses({ ...notification, Message: notification.Message!.replace('Delivery', 'Bounce') })).status,
      ).toBe(401);
      const fetches = sns.certFetches;
      const elsewhere = sns.message(
        { Type: 'Notification', Message: notification.Message! },
        '2',
        'http://127.0.0.2:1/cert.pem',
      );
      expect((await ses(elsewhere)).status).toBe(401);
      expect(sns.certFetches).toBe(fetches);
      expect(await allEvents()).toBe(before);
      expect((await ses(notification)).body).toMatchObject({ recorded: 1 });
      expect((await ses(notification)).body).toMatchObject({ recorded: 0, replayed: 1 });
      expect(await events(delivery.id)).toMatchObject([{ kind: 'delivered', source: 'ses' }]);
    });

    it('a permanent bounce (v2, by Message-ID) and a complaint (v1, by tag) suppress; a transient bounce does not', async () => {
      const hard = await sent('ses');
      const soft = await sent('ses');
      const complaint = await sent('ses');
      const bounced = (delivery: { messageId: string }, bounceType: string) =>
        sesNotification(
          'Bounce',
          { commonHeaders: { messageId: delivery.messageId } },
          {
            bounceType,
            bounceSubType: bounceType === 'Permanent' ? 'General' : 'MailboxFull',
            bouncedRecipients: [
              {
                emailAddress: 'someone@example.com',
                action: 'failed',
                status: '5.1.1',
                diagnosticCode: 'smtp; 550 5.1.1 user unknown',
              },
            ],
            timestamp: new Date().toISOString(),
            feedbackId: randomUUID(),
          },
        );
      expect((await ses(bounced(hard, 'Permanent'))).body).toMatchObject({ recorded: 1 });
      expect((await ses(bounced(soft, 'Transient'))).body).toMatchObject({ recorded: 1 });
      const complained = sesNotification(
        'Complaint',
        {
          tags: { herald_delivery_id: [complaint.id] },
          headers: [{ name: 'X-Herald-Delivery-Id', value: complaint.id }],
        },
        {
          complainedRecipients: [{ emailAddress: 'someone@example.com' }],
          timestamp: new Date().toISOString(),
          feedbackId: randomUUID(),
          complaintFeedbackType: 'abuse',
        },
        '1',
      );
      expect((await ses(complained)).body).toMatchObject({ recorded: 1 });
      expect(await events(hard.id)).toMatchObject([{ kind: 'bounced', bounce_type: 'hard' }]);
      expect(await events(soft.id)).toMatchObject([{ kind: 'bounced', bounce_type: 'soft' }]);
      expect(await events(complaint.id)).toMatchObject([{ kind: 'complained' }]);
      expect(await suppressed(hard.email)).toBe(true);
      expect(await suppressed(soft.email)).toBe(false);
      expect(await suppressed(complaint.email)).toBe(true);
      const [interaction] = await api.query<{ payload: Record<string, unknown> }>(
        `SELECT payload FROM interactions WHERE contact_id = $1 AND type = 'complaint'`,
        [complaint.contact],
      );
      expect(interaction!.payload).toEqual({
        delivery_id: complaint.id,
        source: 'ses',
        feedback_type: 'abuse',
      });
      // Every SES message so far was verified with the one certificate, fetched once and cached.
      expect(sns.certFetches).toBe(1);
    });
  });

  describe('complaints through POST /v1/events', () => {
    it('a complaint is an event like a bounce: suppresses, stops the sequences, joins the activity log', async () => {
      const delivery = await sent('sendgrid');
      const res = await api.request<{ suppressed: boolean; enrollments_stopped: number }>(
        'POST',
        '/v1/events',
        {
          key: tenant.key,
          body: { type: 'complaint', email: delivery.email, payload: { feedback_type: 'abuse' } },
        },
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ suppressed: true, enrollments_stopped: 1 });
      expect(await suppressed(delivery.email)).toBe(true);
      const [interaction] = await api.query<{ payload: Record<string, unknown> }>(
        `SELECT payload FROM interactions WHERE contact_id = $1 AND type = 'complaint'`,
        [delivery.contact],
      );
      expect(interaction!.payload).toEqual({ source: 'api', feedback_type: 'abuse' });
      const bad = await api.request<Problem>('POST', '/v1/events', {
        key: tenant.key,
        body: { type: 'complaint', email: delivery.email, payload: { kind: 'hard' } },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e) => e.field)).toEqual(['payload.kind']);
    });
  });

  describe('account health', () => {
    it('pauses an account once when its hard bounce rate crosses the threshold with enough sample', async () => {
      const deliveries: Awaited<ReturnType<typeof sent>>[] = [];
      for (let i = 0; i < 13; i++) deliveries.push(await sent('health', accounts.health, campaigns.health));
      const batch = (from: number, to: number, make: (d: { id: string }) => unknown) =>
        sendgrid(deliveries.slice(from, to).map(make), { account: accounts.health });
      // 9 delivered + 0 bounces: under the minimum sample, and healthy anyway.
      await batch(0, 9, (d) => sgEvent('delivered', d));
      let [row] = await api.query<{ status: string }>(`SELECT status FROM sender_accounts WHERE id = $1`, [
        accounts.health,
      ]);
      expect(row!.status).toBe('active');
      // One hard bounce: 1 / 10 = 10 %, not above 10 %.
      await batch(9, 10, (d) => sgEvent('bounce', d, { type: 'bounce' }));
      [row] = await api.query<{ status: string }>(`SELECT status FROM sender_accounts WHERE id = $1`, [
        accounts.health,
      ]);
      expect(row!.status).toBe('active');
      // A second: 2 / 11 > 10 % — paused, with its reason.
      await batch(10, 11, (d) => sgEvent('bounce', d, { type: 'bounce' }));
      const [paused] = await api.query<{ status: string; paused_reason: string; paused_at: Date | null }>(
        `SELECT status, paused_reason, paused_at FROM sender_accounts WHERE id = $1`,
        [accounts.health],
      );
      expect(paused!.status).toBe('paused');
      expect(paused!.paused_reason).toMatch(/^hard bounce rate 18\.18 % over 11 messages/);
      expect(paused!.paused_at).not.toBeNull();
      const view = await api.request<{ status: string; paused_reason: string }>(
        'GET',
        `/v1/sender-accounts/${accounts.health}`,
        {
          key: tenant.key,
        },
      );
      expect(view.body).toMatchObject({ status: 'paused', paused_reason: paused!.paused_reason });
      // More bounces: still paused once.
      await batch(11, 13, (d) => sgEvent('bounce', d, { type: 'bounce' }));
      expect(
        await metric('herald_sender_account_paused_total', {
          account: accounts.health!,
          reason: 'bounce_rate',
        }),
      ).toBe(1);
      expect(
        await metric('herald_sender_account_health_events_total', {
          account: accounts.health!,
          kind: 'hard_bounce',
        }),
      ).toBe(4);
      // Resumed by an operator: the reason goes with the pause.
      const resumed = await api.request<{ status: string; paused_reason: string | null }>(
        'POST',
        `/v1/sender-accounts/${accounts.health}/resume`,
        { key: tenant.key },
      );
      expect(resumed.body).toMatchObject({ status: 'active', paused_reason: null });
    });

    it('pauses for complaints over their own threshold; a replayed complaint counts nothing', async () => {
      const deliveries: Awaited<ReturnType<typeof sent>>[] = [];
      for (let i = 0; i < 11; i++)
        deliveries.push(await sent('complaints', accounts.complaints, campaigns.complaints));
      for (const d of deliveries.slice(0, 10))
        await mailgun(mgEvent('delivered', d), { account: accounts.complaints });
      const complaint = mgEvent('complained', deliveries[10]!);
      await mailgun(complaint, { account: accounts.complaints });
      await mailgun(complaint, { account: accounts.complaints });
      const [row] = await api.query<{ status: string; paused_reason: string }>(
        `SELECT status, paused_reason FROM sender_accounts WHERE id = $1`,
        [accounts.complaints],
      );
      expect(row!.status).toBe('paused');
      expect(row!.paused_reason).toMatch(/^complaint rate 10\.00 % over 10 messages/);
      expect(
        await metric('herald_sender_account_paused_total', {
          account: accounts.complaints!,
          reason: 'complaint_rate',
        }),
      ).toBe(1);
      expect(
        await metric('herald_sender_account_health_events_total', {
          account: accounts.complaints!,
          kind: 'complaint',
        }),
      ).toBe(1);
    });
  });
});
