import { KeyRing } from '@herald/config';
import { Secret } from '@herald/config';
import { load } from 'cheerio';
import { LinkTokens } from './links/link-token';
import { applyLayout, layoutProblems } from './mail-layout';
import { PublicLinks } from './links/public-links';
import { MessageRenderer, type RenderRequest } from './message-renderer';

const ring = new KeyRing({ id: 'k1', key: new Secret(Buffer.alloc(32, 7)) });
const links = new PublicLinks('https://mail.example.test', ring);
const tenantId = '0190f0a0-0000-7000-8000-0000000000e1';
const contact = {
  id: '0190f0a0-0000-7000-8000-000000000001',
  email: 'ada@example.test',
  firstName: '<script>alert(1)</script>',
  lastName: '*Lovelace*',
  externalRef: null,
  attributes: { company: 'A & B', site: 'https://ab.example/?q=1&r=2' },
};
const envelope = {
  tenantId,
  deliveryId: '0190f0a0-0000-7000-8000-0000000000d1',
  campaignId: '0190f0a0-0000-7000-8000-0000000000c1',
  runId: null,
};
const request = (over: Partial<RenderRequest> & Pick<RenderRequest, 'content'>): RenderRequest => ({
  step: 0,
  contact,
  sender: { id: 's1', channel: 'smtp', settings: { postal_address: 'Herald Ltd\n1 Main St, Springfield' } },
  ...over,
});

describe('email rendering', () => {
  const renderer = new MessageRenderer(links);

  it('renders Markdown to HTML with contact values escaped (neither HTML nor Markdown), and derives the text', () => {
    const message = renderer.message(
      envelope,
      request({
        content: {
          subject: 'Hi',
          body: '# Hello {{ first_name }}\n\nFrom **{{ attributes.company }}**, {{ last_name }}.\n\n[Our site](https://herald.example/docs)',
          format: 'markdown',
        },
      }),
    );
    expect(message.html).toContain('<h1>Hello &lt;script&gt;alert(1)&lt;/script&gt;</h1>');
    expect(message.html).toContain('<strong>A &amp; B</strong>, *Lovelace*.');
    expect(message.html).not.toContain('<script>');
    expect(message.html).toContain('<a href="https://herald.example/docs">Our site</a>');
    expect(message.body).toContain('Hello <script>alert(1)</script>');
    expect(message.body).toContain('From A & B, *Lovelace*.');
    expect(message.body).toContain('Our site [https://herald.example/docs]');
  });

  it('derives the text of an HTML body, and keeps a text body as written (its HTML a transcript)', () => {
    const html = renderer.render(
      request({
        content: {
          body: '<p>Dear {{ attributes.company }},</p><p>See <a href="https://x.example">this</a></p>',
          format: 'html',
        },
      }),
    );
    expect(html.html).toContain('<p>Dear A &amp; B,</p>');
    expect(html.body).toMatch(/^Dear A & B,\n\nSee this \[https:\/\/x\.example\]/);
    const text = renderer.render(
      request({
        content: { body: 'Line {{ attributes.company }}\nnext\n\nVisit https://x.example/a?b=1&c=2.' },
      }),
    );
    expect(text.body.startsWith('Line A & B\nnext\n\nVisit https://x.example/a?b=1&c=2.')).toBe(true);
    expect(text.html).toContain('<p>Line A &amp; B<br>\nnext</p>');
    expect(text.html).toContain(
      '<a href="https://x.example/a?b=1&amp;c=2">https://x.example/a?b=1&amp;c=2</a>.',
    );
  });

  it('puts the content in the tenant layout, with the footer: postal address and unsubscribe link', () => {
    const message = renderer.message(
      envelope,
      request({
        content: { body: 'Hello' },
        layout: '<html><body><header>ACME</header>{{{content}}}<footer>{{{footer}}}</footer></body></html>',
      }),
    );
    const $ = load(message.html!);
    expect($('header').text()).toBe('ACME');
    expect($('footer .herald-footer p').first().html()).toBe('Herald Ltd<br>1 Main St, Springfield');
    const unsubscribe = $('footer a').attr('href')!;
    expect(unsubscribe).toMatch(/^https:\/\/mail\.example\.test\/u\/[A-Za-z0-9_-]+$/);
    expect(message.headers).toEqual({
      'List-Unsubscribe': `<${unsubscribe}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    expect(message.body).toBe(
      `Hello\n\n-- \nHerald Ltd\n1 Main St, Springfield\nUnsubscribe: ${unsubscribe}\n`,
    );
    const claims = links.tokens.verify(unsubscribe.split('/u/')[1]!, 'unsubscribe');
    expect(claims).toEqual({
      purpose: 'unsubscribe',
      tenantId,
      deliveryId: envelope.deliveryId,
      contactId: contact.id,
    });
  });

  it('adds no links and no List-Unsubscribe without a public base URL, nor without a delivery', () => {
    const none = new MessageRenderer(new PublicLinks('', ring)).message(
      envelope,
      request({ content: { body: 'Hi' } }),
    );
    expect(none.headers).toEqual({});
    expect(none.html).not.toContain('/u/');
    const { tenantId: _omit, ...noTenant } = envelope;
    expect(renderer.message(noTenant, request({ content: { body: 'Hi' } })).headers).toEqual({});
  });

  it('tracks nothing unless the campaign asks', () => {
    const message = renderer.message(
      envelope,
      request({
        content: { body: '[a](https://a.example/x)', format: 'markdown' },
        tracking: { opens: false, clicks: false },
      }),
    );
    expect(message.html).toContain('href="https://a.example/x"');
    expect(message.html).not.toContain('/t/o/');
  });

  it('rewrites each web link through a signed click redirect naming its index and URL, and adds the pixel', () => {
    const message = renderer.message(
      envelope,
      request({
        content: {
          body: '[a](https://a.example/x?y=1&z=2) [mail](mailto:x@example.test) [b](https://b.example/)',
          format: 'markdown',
        },
        tracking: { opens: true, clicks: true },
      }),
    );
    const $ = load(message.html!);
    const hrefs = $('a')
      .map((_i, a) => $(a).attr('href'))
      .get();
    expect(hrefs[1]).toBe('mailto:x@example.test');
    const tokens = new LinkTokens(ring.derive('herald public links v1'));
    const clicks = [hrefs[0]!, hrefs[2]!].map((h) => tokens.verify(h.split('/t/c/')[1]!, 'click'));
    expect(clicks).toEqual([
      expect.objectContaining({
        linkIndex: 0,
        url: 'https://a.example/x?y=1&z=2',
        deliveryId: envelope.deliveryId,
      }),
      expect.objectContaining({ linkIndex: 1, url: 'https://b.example/' }),
    ]);
    // The footer's unsubscribe link is never a redirect.
    expect($('.herald-footer a').attr('href')).toMatch(/\/u\//);
    const pixel = $('img[width="1"]').attr('src')!;
    expect(pixel).toMatch(/^https:\/\/mail\.example\.test\/t\/o\/[A-Za-z0-9_-]+\.gif$/);
    expect(tokens.verify(pixel.split('/t/o/')[1]!.replace(/\.gif$/, ''), 'open')).toMatchObject({
      purpose: 'open',
    });
  });
});

describe('layouts', () => {
  it('wants the content slot exactly once, the footer slot at most once', () => {
    expect(layoutProblems('<p>{{{content}}}</p>')).toEqual([]);
    expect(layoutProblems('<p>{{{content}}}{{{footer}}}</p>')).toEqual([]);
    expect(layoutProblems('<p>none</p>')).toEqual(['must contain the {{{content}}} slot']);
    expect(layoutProblems('{{{content}}}{{{content}}}')).toEqual([
      'must contain the {{{content}}} slot once',
    ]);
    expect(layoutProblems('{{{content}}}{{{footer}}}{{{footer}}}')).toEqual([
      'may contain the {{{footer}}} slot once',
    ]);
  });

  it('puts content in literally (no replacement patterns), the footer after it without a footer slot', () => {
    expect(applyLayout('<main>{{{content}}}</main>', "<p>$& $' $1</p>", '<small>f</small>')).toBe(
      "<main><p>$& $' $1</p>\n<small>f</small></main>",
    );
  });
});

describe('link tokens', () => {
  const tokens = new LinkTokens(ring);
  const subject = { tenantId, deliveryId: envelope.deliveryId, contactId: contact.id };

  it('refuses a token altered in any byte, used for another purpose, or signed with another key', () => {
    const token = tokens.sign({ ...subject, purpose: 'click', linkIndex: 3, url: 'https://a.example/' });
    expect(tokens.verify(token, 'click')).toEqual({
      ...subject,
      purpose: 'click',
      linkIndex: 3,
      url: 'https://a.example/',
    });
    expect(tokens.verify(token, 'unsubscribe')).toBeUndefined();
    const raw = Buffer.from(token, 'base64url');
    for (let i = 0; i < raw.length; i += 1) {
      const bent = Buffer.from(raw);
      bent[i] = bent[i]! ^ 1;
      expect(tokens.verify(bent.toString('base64url'), 'click')).toBeUndefined();
    }
    const other = new LinkTokens(new KeyRing({ id: 'k2', key: new Secret(Buffer.alloc(32, 9)) }));
    expect(other.verify(token, 'click')).toBeUndefined();
    expect(tokens.verify('not a token!', 'click')).toBeUndefined();
    expect(tokens.verify(`${token}A`, 'click')).toBeUndefined();
    expect(tokens.verify('', 'open')).toBeUndefined();
  });

  it('still verifies a token signed with a previous key of the ring', () => {
    const old = tokens.sign({ ...subject, purpose: 'open' });
    const rotated = new LinkTokens(
      new KeyRing({ id: 'k2', key: new Secret(Buffer.alloc(32, 9)) }, [ring.current]),
    );
    expect(rotated.verify(old, 'open')).toEqual({ ...subject, purpose: 'open' });
  });
});
