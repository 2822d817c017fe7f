import { PublicLinks } from '@herald/deliveries';
import { HeraldMetrics } from '@herald/telemetry';
import { eventually } from '@herald/testing';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { TestApi } from '../../../test/support/api-app';

const BASE = 'https://mail.example.test';
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
/** One public recording at a time and three more waiting, on a pool of four. */
const ENV = {
  PUBLIC_BASE_URL: BASE,
  DATABASE_POOL_MAX: '4',
  PUBLIC_ROUTES_DB_CONCURRENCY: '1',
  PUBLIC_ROUTES_QUEUE: '3',
};
const FLOOD = 10;

interface Answer {
  status: number;
  type: string | null;
  location: string | null;
}

/**
 * The public email routes' share of the database, through the real api: while their recordings
 * cannot finish (engagement_events locked by another session), a flood of valid pixels takes one
 * connection and queues three requests; the rest still get their pixel and a click its redirect,
 * unrecorded and counted, while the authenticated API keeps its connections. An unsubscribe is
 * never shed: it waits and takes effect. Once the lock goes, every waiting request is recorded.
 */
describe('public email routes under a flood of valid links', () => {
  let api: TestApi;
  let tenant: { id: string; key: string };
  let blocker: Client;
  const contacts: string[] = [];
  let account: string;
  let broadcast: string;

  const post = async <T = { id: string }>(path: string, body: unknown) => {
    const res = await api.request<T>('POST', path, { key: tenant.key, body });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
    return res.body;
  };

  /** A delivery of the broadcast to the contact, sent an hour ago, and its links. */
  const delivery = async (contactId: string) => {
    const id = randomUUID();
    await api.query(
      `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, contact_id, sender_account_id, channel,
                               status, sent_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'webhook', 'sent', now() - interval '1 hour')`,
      [tenant.id, id, `key-${id}`, broadcast, contactId, account],
    );
    const links = api.app.get(PublicLinks);
    const subject = { tenantId: tenant.id, deliveryId: id, contactId };
    return {
      id,
      pixel: links.openPixel(subject).slice(BASE.length),
      click: links.click(subject, 0, 'https://news.example/a').slice(BASE.length),
      unsubscribe: links.unsubscribe(subject).slice(BASE.length),
    };
  };

  const hit = async (method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await fetch(api.url + path, {
      method,
      redirect: 'manual',
      headers: { 'user-agent': BROWSER, ...headers },
      ...(method === 'POST' ? { body: 'List-Unsubscribe=One-Click' } : {}),
    });
    await res.arrayBuffer();
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      location: res.headers.get('location'),
    };
  };

  const shed = async (route: string) =>
    (await api.app.get(HeraldMetrics).publicShed.get()).values.find((v) => v.labels.route === route)?.value ??
    0;

  const events = (kind: string) =>
    api.query<{ delivery_id: string }>(
      `SELECT delivery_id FROM engagement_events WHERE tenant_id = $1 AND kind = $2 ORDER BY delivery_id`,
      [tenant.id, kind],
    );

  beforeAll(async () => {
    api = await TestApi.start(ENV);
    tenant = await api.createTenant('Flood');
    for (let i = 0; i <= FLOOD + 1; i += 1)
      contacts.push((await post('/v1/contacts', { email: `reader${i}@example.com` })).id);
    account = await api.createWebhookAccount(tenant.key);
    broadcast = (
      await post('/v1/campaigns', {
        name: 'News',
        kind: 'broadcast',
        sender_account_id: account,
        steps: [{ subject: 'News', body: '[Read](https://news.example/a)', format: 'markdown' }],
        tracking: { opens: true, clicks: true },
      })
    ).id;
    blocker = new Client({ connectionString: api.database.url });
    await blocker.connect();
  });
  afterAll(async () => {
    await blocker?.end();
    await api?.close();
  });

  it('sheds opens and clicks past the queue, never the API or an unsubscribe, and records every request it kept', async () => {
    const deliveries = [];
    for (const c of contacts) deliveries.push(await delivery(c));
    const opened = deliveries.slice(0, FLOOD);
    const [clicked, leaving] = deliveries.slice(FLOOD) as [
      (typeof deliveries)[number],
      (typeof deliveries)[number],
    ];
    const [shedOpens, shedClicks] = [await shed('open'), await shed('click')];

    // Recordings wait on the lock (a share lock lets reads through and holds every insert).
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE engagement_events IN SHARE MODE');
    let released = false;
    try {
      const answered: Answer[] = [];
      const flood = opened.map((d) => hit('GET', d.pixel).then((a) => (answered.push(a), a)));
      // One recording holds the share, three wait; the other six are answered at once, unrecorded.
      await eventually(async () => (await shed('open')) === shedOpens + FLOOD - 4, {
        what: 'six opens shed',
      });
      await eventually(() => Promise.resolve(answered.length === FLOOD - 4), {
        what: 'the shed opens answered',
      });
      for (const a of answered) expect(a).toMatchObject({ status: 200, type: 'image/gif' });

      // The queue is full: an unsubscribe waits its turn, a click still redirects, unrecorded.
      const unsubscribed = hit('POST', leaving.unsubscribe);
      expect(await hit('GET', clicked.click)).toMatchObject({
        status: 302,
        location: 'https://news.example/a',
      });
      expect(await shed('click')).toBe(shedClicks + 1);

      // The API's connections are its own: a list and a write answer while the public share is stuck.
      const list = await api.request<{ data: unknown[] }>('GET', '/v1/contacts?limit=5', { key: tenant.key });
      expect(list.status).toBe(200);
      expect(list.body.data).toHaveLength(5);
      expect(
        (await api.request('POST', '/v1/contacts', { key: tenant.key, body: { email: 'new@example.com' } }))
          .status,
      ).toBe(201);
      expect(answered).toHaveLength(FLOOD - 4);

      await blocker.query('COMMIT');
      released = true;
      const all = await Promise.all(flood);
      expect(all.every((a) => a.status === 200 && a.type === 'image/gif')).toBe(true);
      expect((await unsubscribed).status).toBe(200);
    } finally {
      if (!released) await blocker.query('ROLLBACK');
    }

    // Recorded: the four opens that waited (not the shed ones), the unsubscribe; not the shed click.
    const recordedOpens = await events('opened');
    expect(recordedOpens).toHaveLength(4);
    expect(recordedOpens.every((e) => opened.some((d) => d.id === e.delivery_id))).toBe(true);
    expect(await events('clicked')).toEqual([]);
    expect(await events('unsubscribed')).toEqual([{ delivery_id: leaving.id }]);
    const [suppressed] = await api.query<{ n: string }>(
      `SELECT count(*) AS n FROM suppressions WHERE tenant_id = $1 AND email = 'reader${FLOOD + 1}@example.com'`,
      [tenant.id],
    );
    expect(suppressed!.n).toBe('1');
    expect(await shed('open')).toBe(shedOpens + FLOOD - 4);

    // Quiet again: a click is recorded.
    expect((await hit('GET', clicked.click)).status).toBe(302);
    expect(await events('clicked')).toEqual([{ delivery_id: clicked.id }]);
  });
});
