import {
  callApi,
  createTestDatabase,
  eventually,
  freePort,
  HeraldProcess,
  readMime,
  SmtpSink,
  TEST_ADMIN_KEY,
  testEnvironment,
  testRedisPrefix,
  testRedisUrl,
  type MimeEntity,
  type TestDatabase,
  createTenant,
} from '@herald/testing';
import { load } from 'cheerio';

jest.setTimeout(180_000);

const BROWSER =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/**
 * Email as recipients get it, through real api and worker processes and a real SMTP server on
 * loopback: a Markdown broadcast arrives as multipart/alternative (text and HTML), with the
 * sender's postal address in both, RFC 8058 List-Unsubscribe headers whose URL the api serves,
 * tracked links that redirect to the message's own links; the one-click POST unsubscribes (the
 * address suppressed, the contact's sequence stopped) within the request.
 */
describe('email through the api and a worker to an SMTP server', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let api: HeraldProcess;
  let worker: HeraldProcess;
  let base: string;

  beforeAll(async () => {
    [db, sink] = await Promise.all([createTestDatabase(), SmtpSink.start()]);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: testRedisPrefix(),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      API_RATE_LIMIT_PER_SECOND: '0',
      PUBLIC_BASE_URL: base,
      // The test clicks right after the send: the person it is, not a scanner.
      TRACKING_MACHINE_WINDOW_SECONDS: '0',
    });
    [api, worker] = await Promise.all([
      HeraldProcess.start('api', { ...env, PORT: String(port) }),
      // The sourcing queue's handler lands with its own branch (main has the queue, not yet its handler).
      HeraldProcess.start('worker', { ...env, WORKER_QUEUES: 'system,runs,deliveries' }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await sink?.stop();
    await db?.drop();
  });

  it('sends text and HTML with the footer and List-Unsubscribe; one click unsubscribes', async () => {
    const call = <T>(method: string, path: string, key: string, body?: unknown) =>
      callApi<T>(api.publicUrl, method, path, key, body);
    const tenant = await createTenant(api.publicUrl, TEST_ADMIN_KEY, 'Newsroom');
    const key = tenant.key;
    const account = await call<{ id: string; config: Record<string, unknown> }>(
      'POST',
      '/v1/sender-accounts',
      key,
      {
        name: 'Loopback SMTP',
        channel: 'smtp',
        config: {
          host: '127.0.0.1',
          port: sink.port,
          secure: false,
          username: 'herald',
          password: 'smtp-password',
          from: 'Newsroom <news@example.test>',
          postal_address: 'Newsroom Ltd\n1 Harbour Road, Bristol',
        },
      },
    );
    expect(account.status).toBe(201);
    expect(account.body.config.postal_address).toBe('Newsroom Ltd\n1 Harbour Road, Bristol');
    const ada = await call<{ id: string }>('POST', '/v1/contacts', key, {
      email: 'ada@example.test',
      first_name: 'Ada <i>',
      tags: ['news'],
    });
    await call('POST', '/v1/contacts', key, { email: 'bob@example.test', first_name: 'Bob', tags: ['news'] });
    const sequence = await call<{ id: string }>('POST', '/v1/campaigns', key, {
      name: 'Onboarding',
      kind: 'sequence',
      sender_account_id: account.body.id,
      steps: [{ subject: 'Later', body: 'Later', delay: 86_400 }],
    });
    expect(
      (
        await call('POST', `/v1/campaigns/${sequence.body.id}/enrollments`, key, {
          contact_ids: [ada.body.id],
        })
      ).status,
    ).toBeLessThan(300);
    const campaign = await call<{ id: string }>('POST', '/v1/campaigns', key, {
      name: 'Weekly',
      kind: 'broadcast',
      sender_account_id: account.body.id,
      audience: { tags: ['news'] },
      steps: [
        {
          subject: 'This week for {{ first_name }}',
          body: '# Hello {{ first_name }}\n\nThree things changed. Read [the notes](https://news.example/notes?week=49&lang=en).',
          format: 'markdown',
        },
      ],
      tracking: { opens: true, clicks: true },
    });
    expect(campaign.status).toBe(201);
    expect((await call('POST', `/v1/campaigns/${campaign.body.id}/runs`, key, {})).status).toBe(202);
    await sink.waitForMessages(2);

    const mail = [...sink.messages.values()]
      .map((m) => readMime(m.raw))
      .find((m) => m.headers.get('to')?.includes('ada@example.test'))!;
    expect(mail.headers.get('subject')).toBe('This week for Ada <i>');
    expect(mail.contentType).toBe('multipart/alternative');
    const [text, html] = mail.parts as [MimeEntity, MimeEntity];
    expect([text.contentType, html.contentType]).toEqual(['text/plain', 'text/html']);

    const unsubscribe = /^<(.+)>$/.exec(mail.headers.get('list-unsubscribe') ?? '')?.[1];
    expect(unsubscribe).toMatch(new RegExp(`^${base}/u/[\\w-]+$`));
    expect(mail.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');

    expect(text.body).toContain('Hello Ada <i>');
    expect(text.body).toContain('Three things changed.');
    expect(text.body).toContain(`-- \nNewsroom Ltd\n1 Harbour Road, Bristol\nUnsubscribe: ${unsubscribe}`);

    const $ = load(html.body);
    expect($('h1').text()).toBe('Hello Ada <i>');
    expect(html.body).toContain('Hello Ada &lt;i&gt;');
    expect($('.herald-footer').text()).toContain('1 Harbour Road, Bristol');
    expect($('.herald-footer a').attr('href')).toBe(unsubscribe);
    expect($('img[width="1"]').attr('src')).toMatch(new RegExp(`^${base}/t/o/[\\w-]+\\.gif$`));

    // The tracked link goes through the api to the message's own link.
    const tracked = $('h1 + p a').attr('href')!;
    expect(tracked).toMatch(new RegExp(`^${base}/t/c/`));
    const click = await fetch(tracked, { redirect: 'manual', headers: { 'user-agent': BROWSER } });
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toBe('https://news.example/notes?week=49&lang=en');

    // RFC 8058: the mailbox provider POSTs the one-click body to the header's URL.
    const oneClick = await fetch(unsubscribe!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.status).toBe(200);
    // Within the request: the address is suppressed and the sequence stopped when it answers.
    const suppressions = await call<{ data: { email: string; reason: string }[] }>(
      'GET',
      '/v1/suppressions',
      key,
    );
    expect(suppressions.body.data).toEqual([
      expect.objectContaining({ email: 'ada@example.test', reason: 'unsubscribe' }),
    ]);
    const enrollments = await call<{ data: { contact_id: string; status: string }[] }>(
      'GET',
      `/v1/campaigns/${sequence.body.id}/enrollments`,
      key,
    );
    expect(enrollments.body.data).toEqual([
      expect.objectContaining({ contact_id: ada.body.id, status: 'stopped' }),
    ]);
    // Bob's message came through the same way, with his own link.
    const bob = [...sink.messages.values()]
      .map((m) => readMime(m.raw))
      .find((m) => m.headers.get('to')?.includes('bob@example.test'))!;
    expect(bob.headers.get('list-unsubscribe')).not.toBe(mail.headers.get('list-unsubscribe'));
    await eventually(
      async () => {
        const runs = await call<{ data: { status: string }[] }>(
          'GET',
          `/v1/runs?campaign_id=${campaign.body.id}`,
          key,
        );
        return runs.body.data?.[0]?.status === 'completed' ? true : undefined;
      },
      { timeoutMs: 30_000, what: 'run completed' },
    );
  });
});
