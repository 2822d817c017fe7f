import { MessageRenderer, SenderAccountsRepository } from '@herald/deliveries';
import { load } from 'cheerio';
import { randomUUID } from 'node:crypto';
import { TestApi } from '../../../test/support/api-app';

const BASE = 'https://mail.example.test';
const BROWSER =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';

/**
 * Item 1 and 3 of issue 12 through the real api: the preview, the tenant layout, the hosted
 * unsubscribe page (GET shows, POST confirms, RFC 8058 one-click), and the tracking pixel and
 * click redirect — every link signed for its message.
 */
describe('email: preview, unsubscribe page, tracking', () => {
  let api: TestApi;
  let tenant: { id: string; key: string };
  let account: string;
  let ada: string;
  let broadcast: string;
  let sequence: string;

  const post = async <T = { id: string }>(path: string, body: unknown) => {
    const res = await api.request<T>('POST', path, { key: tenant.key, body });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
    return res.body;
  };

  /** A sent delivery of the broadcast to `contact`, sent `agoSeconds` ago. */
  const sentDelivery = async (contact: string, agoSeconds: number) => {
    const id = randomUUID();
    await api.query(
      `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, contact_id, sender_account_id, channel,
                               status, sent_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'webhook', 'sent', now() - make_interval(secs => $7))`,
      [tenant.id, id, `key-${id}`, broadcast, contact, account, agoSeconds],
    );
    return id;
  };

  /** The message the pipeline would send for the delivery: the same renderer, the same links. */
  const messageOf = async (deliveryId: string, contact: string) => {
    const [c] = await api.query<{ email: string; first_name: string }>(
      `SELECT email, first_name FROM contacts WHERE id = $1`,
      [contact],
    );
    const sender = await api.app.get(SenderAccountsRepository).find(tenant.id, account);
    return api.app.get(MessageRenderer).message(
      { tenantId: tenant.id, deliveryId, campaignId: broadcast, runId: null },
      {
        step: 0,
        content: {
          subject: 'Hi',
          body: 'Hello {{ first_name }}, read [the news](https://news.example/a?b=1&c=2) or [docs](https://docs.example/).',
          format: 'markdown',
        },
        contact: {
          id: contact,
          email: c!.email,
          firstName: c!.first_name,
          lastName: null,
          externalRef: null,
          attributes: {},
        },
        sender: { id: account, channel: 'webhook', settings: sender!.settings },
        tracking: { opens: true, clicks: true },
      },
    );
  };

  const path = (url: string) => url.slice(BASE.length);
  const hit = (method: string, url: string, init: { body?: string; headers?: Record<string, string> } = {}) =>
    fetch(api.url + path(url), {
      method,
      redirect: 'manual',
      headers: { 'user-agent': BROWSER, ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });

  beforeAll(async () => {
    api = await TestApi.start({ PUBLIC_BASE_URL: BASE, TRACKING_MACHINE_WINDOW_SECONDS: '30' });
    tenant = await api.createTenant('Mail');
    ada = (await post('/v1/contacts', { email: 'ada@example.com', first_name: 'Ada <b>' })).id;
    account = (
      await post('/v1/sender-accounts', {
        name: 'Hook',
        channel: 'webhook',
        config: {
          url: 'https://hooks.example/in',
          secret: 'x'.repeat(32),
          postal_address: 'Mail Ltd\n1 High Street, Leeds',
        },
      })
    ).id;
    broadcast = (
      await post('/v1/campaigns', {
        name: 'News',
        kind: 'broadcast',
        sender_account_id: account,
        steps: [
          {
            subject: 'News for {{ first_name }}',
            body: '# Hello {{ first_name }}\n\n[Read](https://news.example/)',
            format: 'markdown',
          },
        ],
        tracking: { opens: false, clicks: true },
      })
    ).id;
    sequence = (
      await post('/v1/campaigns', {
        name: 'Trial',
        kind: 'sequence',
        sender_account_id: account,
        steps: [
          { subject: 'One', body: 'One' },
          { subject: 'Two', body: 'Two', delay: 86_400 },
        ],
      })
    ).id;
    await post(`/v1/campaigns/${sequence}/enrollments`, { contact_ids: [ada] });
  });

  afterAll(async () => {
    await api.close();
  });

  describe('preview', () => {
    it('renders a step for a real contact: subject, text, HTML (escaped, in the layout, tracked) and headers', async () => {
      const res = await api.request<{
        subject: string;
        text: string;
        html: string;
        headers: Record<string, string>;
      }>('POST', `/v1/campaigns/${broadcast}/preview`, {
        key: tenant.key,
        body: { contact_id: ada, step: 0 },
      });
      expect(res.status).toBe(200);
      expect(res.body.subject).toBe('News for Ada <b>');
      expect(res.body.html).toContain('<h1>Hello Ada &lt;b&gt;</h1>');
      expect(res.body.html).toContain('Mail Ltd<br>1 High Street, Leeds');
      const $ = load(res.body.html);
      expect($('h1 + p a').attr('href')).toMatch(/^https:\/\/mail\.example\.test\/t\/c\//);
      expect(res.body.text).toContain('Hello Ada <b>');
      expect(res.body.text).toContain('Mail Ltd\n1 High Street, Leeds');
      expect(res.body.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
      expect(res.body.headers['List-Unsubscribe']).toMatch(/^<https:\/\/mail\.example\.test\/u\/[\w-]+>$/);
      // A preview's unsubscribe link names no delivery: it unsubscribes nobody.
      const page = await hit('POST', res.body.headers['List-Unsubscribe']!.slice(1, -1));
      expect(page.status).toBe(404);
      expect(await api.query(`SELECT 1 FROM suppressions WHERE tenant_id = $1`, [tenant.id])).toEqual([]);
    });

    it('names the field when the contact, the step or the template is wrong', async () => {
      const preview = (body: unknown) =>
        api.request<{ errors: { field: string }[] }>('POST', `/v1/campaigns/${broadcast}/preview`, {
          key: tenant.key,
          body,
        });
      const unknown = await preview({ contact_id: randomUUID() });
      expect([unknown.status, unknown.body.errors[0]?.field]).toEqual([404, 'contact_id']);
      const step = await preview({ contact_id: ada, step: 3 });
      expect([step.status, step.body.errors[0]?.field]).toEqual([400, 'step']);
      const bad = await preview({ contact_id: 'nope' });
      expect([bad.status, bad.body.errors[0]?.field]).toEqual([400, 'contact_id']);
      const nameless = (await post('/v1/contacts', { email: 'nameless@example.com' })).id;
      const template = await preview({ contact_id: nameless });
      expect([template.status, template.body.errors[0]?.field]).toEqual([400, 'contact_id']);
      const other = await api.createTenant('Other');
      const foreign = await api.request('POST', `/v1/campaigns/${broadcast}/preview`, {
        key: other.key,
        body: { contact_id: ada },
      });
      expect(foreign.status).toBe(404);
    });

    it('uses the tenant layout once set, and refuses one without its content slot', async () => {
      const refused = await api.request<{ errors: { field: string }[] }>('PUT', '/v1/email-layout', {
        key: tenant.key,
        body: { layout: '<html><body>no slot</body></html>' },
      });
      expect([refused.status, refused.body.errors[0]?.field]).toEqual([400, 'layout']);
      const layout =
        '<html><body><div id="brand">Mail Ltd</div>{{{content}}}<div id="foot">{{{footer}}}</div></body></html>';
      expect(
        (await api.request('PUT', '/v1/email-layout', { key: tenant.key, body: { layout } })).status,
      ).toBe(200);
      expect(
        (await api.request<{ layout: string }>('GET', '/v1/email-layout', { key: tenant.key })).body.layout,
      ).toBe(layout);
      const res = await api.request<{ html: string }>('POST', `/v1/campaigns/${broadcast}/preview`, {
        key: tenant.key,
        body: { contact_id: ada },
      });
      const $ = load(res.body.html);
      expect($('#brand').text()).toBe('Mail Ltd');
      expect($('#foot .herald-footer').text()).toContain('1 High Street, Leeds');
      await api.request('PUT', '/v1/email-layout', { key: tenant.key, body: { layout: null } });
    });
  });

  describe('settings', () => {
    it('takes a campaign’s tracking and a step’s format, naming the field when either is wrong', async () => {
      const got = await api.request<{ tracking: unknown; steps: { format: string; html: boolean }[] }>(
        'GET',
        `/v1/campaigns/${broadcast}`,
        { key: tenant.key },
      );
      expect(got.body.tracking).toEqual({ opens: false, clicks: true });
      expect(got.body.steps[0]).toMatchObject({ format: 'markdown', html: false });
      const patched = await api.request<{ tracking: unknown }>('PATCH', `/v1/campaigns/${sequence}`, {
        key: tenant.key,
        body: { tracking: { opens: true, clicks: false } },
      });
      expect(patched.body.tracking).toEqual({ opens: true, clicks: false });
      const bad = await api.request<{ errors: { field: string }[] }>('PATCH', `/v1/campaigns/${sequence}`, {
        key: tenant.key,
        body: { tracking: { opens: 'yes', clicks: false }, steps: [{ body: 'x', format: 'rtf' }] },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e) => e.field).sort()).toEqual(['steps[0].format', 'tracking.opens']);
      await api.request('PATCH', `/v1/campaigns/${sequence}`, {
        key: tenant.key,
        body: { tracking: { opens: false, clicks: false } },
      });
    });

    it('refuses a postal address with control characters, naming it', async () => {
      const res = await api.request<{ errors: { field: string }[] }>('POST', '/v1/sender-accounts', {
        key: tenant.key,
        body: {
          name: 'Bad',
          channel: 'webhook',
          config: { url: 'https://hooks.example/in', secret: 'x'.repeat(32), postal_address: 'A\u0007B' },
        },
      });
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e) => e.field)).toEqual(['config.postal_address']);
    });
  });

  describe('hosted unsubscribe', () => {
    it('shows a page with a confirm form, and a one-click POST unsubscribes within the request, once', async () => {
      const delivery = await sentDelivery(ada, 3600);
      const message = await messageOf(delivery, ada);
      const url = message.headers!['List-Unsubscribe']!.slice(1, -1);

      const page = await hit('GET', url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      const $ = load(await page.text());
      expect($('form').attr('method')).toBe('post');
      expect($('form').attr('action')).toBe(path(url));
      expect($('form button[type=submit]').text()).toBe('Unsubscribe');
      expect($('main').text()).toContain('ada@example.com');
      // Showing the page changes nothing.
      expect(await api.query(`SELECT 1 FROM suppressions WHERE tenant_id = $1`, [tenant.id])).toEqual([]);

      // RFC 8058: the provider POSTs List-Unsubscribe=One-Click, no cookies, no JavaScript.
      const oneClick = () =>
        hit('POST', url, {
          body: 'List-Unsubscribe=One-Click',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
      const first = await oneClick();
      expect(first.status).toBe(200);
      expect(await first.text()).toContain('You are unsubscribed');

      const state = async () => ({
        suppressions: await api.query(`SELECT email, reason FROM suppressions WHERE tenant_id = $1`, [
          tenant.id,
        ]),
        contact: (await api.query(`SELECT status FROM contacts WHERE id = $1`, [ada]))[0],
        enrollments: await api.query(`SELECT status, stop_reason FROM enrollments WHERE contact_id = $1`, [
          ada,
        ]),
        events: await api.query(
          `SELECT kind, source, source_event_id, campaign_id, contact_id FROM engagement_events WHERE tenant_id = $1 AND kind = 'unsubscribed'`,
          [tenant.id],
        ),
        interactions: await api.query(
          `SELECT type, payload FROM interactions WHERE contact_id = $1 AND type = 'unsubscribe'`,
          [ada],
        ),
        waiting: await api.query(
          `SELECT count(*)::int AS n FROM deliveries WHERE contact_id = $1 AND status IN ('pending', 'deferred')`,
          [ada],
        ),
      });
      const after = await state();
      expect(after).toEqual({
        suppressions: [{ email: 'ada@example.com', reason: 'unsubscribe' }],
        contact: { status: 'unsubscribed' },
        enrollments: [{ status: 'stopped', stop_reason: 'unsubscribe' }],
        events: [
          {
            kind: 'unsubscribed',
            source: 'unsubscribe-page',
            source_event_id: delivery,
            campaign_id: broadcast,
            contact_id: ada,
          },
        ],
        interactions: [{ type: 'unsubscribe', payload: { delivery_id: delivery, source: 'link' } }],
        waiting: [{ n: 0 }],
      });

      // Again, by the page's form this time: the same success, nothing more.
      const again = await hit('POST', url, {
        body: 'List-Unsubscribe=One-Click',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(again.status).toBe(200);
      expect(await again.text()).toContain('You are unsubscribed');
      expect(await state()).toEqual(after);
    });

    it('answers a forged, altered or misused token with a 404 page, never a 500, and changes nothing', async () => {
      const bob = (await post('/v1/contacts', { email: 'bob@example.com', first_name: 'Bob' })).id;
      const delivery = await sentDelivery(bob, 3600);
      const message = await messageOf(delivery, bob);
      const url = message.headers!['List-Unsubscribe']!.slice(1, -1);
      const token = url.split('/u/')[1]!;
      const bent = token.slice(0, 10) + (token[10] === 'A' ? 'B' : 'A') + token.slice(11);
      const click = load(message.html!)('a').first().attr('href')!.split('/t/c/')[1]!;
      const attempts = [
        `/u/${bent}`,
        '/u/not-a-token',
        `/u/${token}x`,
        `/u/${click}`,
        `/u/${'A'.repeat(5000)}`,
        `/u/%00${token}`,
      ];
      for (const attempt of attempts) {
        for (const method of ['GET', 'POST']) {
          const res = await fetch(api.url + attempt, { method, headers: { 'user-agent': BROWSER } });
          expect({ attempt, method, status: res.status }).toEqual({ attempt, method, status: 404 });
          if (res.headers.get('content-type')?.includes('text/html'))
            expect(await res.text()).toContain('Link not valid');
        }
      }
      // Another spelling of the path reaches no handler.
      const shouted = await fetch(`${api.url}/U/${token}`, { method: 'POST' });
      expect(shouted.status).toBe(404);
      expect(await api.query(`SELECT 1 FROM suppressions WHERE email = 'bob@example.com'`)).toEqual([]);
    });
  });

  describe('tracking', () => {
    const events = (delivery: string) =>
      api.query<{ kind: string; machine: boolean; url: string | null; details: Record<string, unknown> }>(
        `SELECT kind, machine, url, details FROM engagement_events WHERE delivery_id = $1 AND source = 'tracking' ORDER BY occurred_at, id`,
        [delivery],
      );

    it('counts an open by a person once per minute, and flags image proxies and HEAD requests as machines', async () => {
      const cy = (await post('/v1/contacts', { email: 'cy@example.com', first_name: 'Cy' })).id;
      const delivery = await sentDelivery(cy, 3600);
      const pixel = load((await messageOf(delivery, cy)).html!)('img[width="1"]').attr('src')!;
      const minuteBefore = Math.floor(Date.now() / 60_000);
      const first = await hit('GET', pixel);
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toBe('image/gif');
      expect(first.headers.get('cache-control')).toContain('no-store');
      expect(
        Buffer.from(await first.arrayBuffer())
          .subarray(0, 6)
          .toString(),
      ).toBe('GIF89a');
      await hit('GET', pixel);
      await hit('GET', pixel, {
        headers: {
          'user-agent':
            'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
        },
      });
      expect((await hit('HEAD', pixel)).status).toBe(200);
      // One event per person-or-machine and minute (two if the requests straddled a minute).
      const minutes = Math.floor(Date.now() / 60_000) - minuteBefore + 1;
      const recorded = await events(delivery);
      const people = recorded.filter((e) => !e.machine);
      const machines = recorded.filter((e) => e.machine);
      expect(people.length).toBeGreaterThanOrEqual(1);
      expect(people.length).toBeLessThanOrEqual(minutes);
      expect(people.every((e) => e.kind === 'opened' && e.details.machine_reason === undefined)).toBe(true);
      expect(machines[0]).toMatchObject({
        kind: 'opened',
        details: { machine_reason: 'google-image-proxy' },
      });
      expect(machines.length).toBeLessThanOrEqual(minutes);
      // An altered pixel token records nothing.
      const bent = pixel.replace(/\/t\/o\/(.)/, (_m, c: string) => `/t/o/${c === 'A' ? 'B' : 'A'}`);
      const counted = recorded.length;
      expect((await hit('GET', bent)).status).toBe(404);
      expect(await events(delivery)).toHaveLength(counted);
    });

    it('redirects a click only to the link of its message, records it, and refuses altered tokens', async () => {
      const dee = (await post('/v1/contacts', { email: 'dee@example.com', first_name: 'Dee' })).id;
      const delivery = await sentDelivery(dee, 3600);
      const $ = load((await messageOf(delivery, dee)).html!);
      const links = $('a[href*="/t/c/"]')
        .map((_i, a) => $(a).attr('href'))
        .get();
      expect(links).toHaveLength(2);

      const first = await hit('GET', links[0]!);
      expect(first.status).toBe(302);
      expect(first.headers.get('location')).toBe('https://news.example/a?b=1&c=2');
      const second = await hit('GET', links[1]!);
      expect(second.headers.get('location')).toBe('https://docs.example/');
      expect((await events(delivery)).map((e) => [e.kind, e.machine, e.url, e.details.link_index])).toEqual([
        ['clicked', false, 'https://news.example/a?b=1&c=2', 0],
        ['clicked', false, 'https://docs.example/', 1],
      ]);

      // No open redirect: any change to the token (its URL included) is refused.
      const token = links[0]!.split('/t/c/')[1]!;
      const raw = Buffer.from(token, 'base64url');
      const evil = Buffer.from(raw);
      const at = raw.indexOf(Buffer.from('news.example'));
      evil.write('evil', at);
      for (const attempt of [evil.toString('base64url'), token.slice(0, -2), 'x', `${token}A`]) {
        const res = await fetch(`${api.url}/t/c/${attempt}`, { redirect: 'manual' });
        expect({ attempt, status: res.status }).toEqual({ attempt, status: 404 });
        expect(res.headers.get('location')).toBeNull();
      }
      // An open token is not a click token.
      const pixel = load((await messageOf(delivery, dee)).html!)('img[width="1"]').attr('src')!;
      const openToken = pixel.split('/t/o/')[1]!.replace(/\.gif$/, '');
      expect((await fetch(`${api.url}/t/c/${openToken}`, { redirect: 'manual' })).status).toBe(404);
    });

    it('flags a click right after the send and a security scanner as machines, never as people', async () => {
      const eve = (await post('/v1/contacts', { email: 'eve@example.com', first_name: 'Eve' })).id;
      const delivery = await sentDelivery(eve, 1);
      const link = load((await messageOf(delivery, eve)).html!)('a[href*="/t/c/"]')
        .first()
        .attr('href')!;
      const minuteBefore = Math.floor(Date.now() / 60_000);
      expect((await hit('GET', link)).status).toBe(302);
      const scanner = { 'user-agent': 'Mozilla/5.0 (compatible; Barracuda Sentinel)' };
      expect((await hit('GET', link, { headers: scanner })).status).toBe(302);
      const minutes = Math.floor(Date.now() / 60_000) - minuteBefore + 1;
      const recorded = await events(delivery);
      expect(recorded[0]).toMatchObject({
        machine: true,
        details: { machine_reason: 'too-soon-after-send' },
      });
      expect(recorded.every((e) => e.machine)).toBe(true);
      expect(recorded.length).toBeLessThanOrEqual(minutes);
    });
  });
});
