import fc from 'fast-check';
import { DedupeIndex, dedupeKeys } from './dedupe';
import { normaliseDomain, normaliseEmail, normaliseName, normaliseProfileUrl } from './normalise';

describe('dedupe keys', () => {
  it.each([
    ['Ada+news@Example.COM', 'ada@example.com'],
    ['  ada@example.com ', 'ada@example.com'],
    ['a.d.a+x@googlemail.com', 'ada@gmail.com'],
    ['A.D.A@gmail.com', 'ada@gmail.com'],
    ['a.d.a@example.com', 'a.d.a@example.com'], // dots matter outside Gmail
    ['zoë@café.fr', 'zoë@xn--caf-dma.fr'],
    ['not-an-email', undefined],
    ['a@b@c', undefined],
    ['+only@example.com', undefined],
  ])('email %s → %s', (input, key) => {
    expect(normaliseEmail(input)).toBe(key);
  });

  it.each([
    ['https://www.Example.com/', 'example.com'],
    ['http://example.com/about?x=1#top', 'example.com'],
    ['example.com', 'example.com'],
    ['WWW.EXAMPLE.COM.', 'example.com'],
    ['https://café.fr', 'xn--caf-dma.fr'],
    ['https://www.xn--caf-dma.fr/menu/', 'xn--caf-dma.fr'],
    ['http://shop.example.com:8080/', 'shop.example.com'],
    ['localhost', undefined],
    ['', undefined],
  ])('domain %s → %s', (input, key) => {
    expect(normaliseDomain(input)).toBe(key);
  });

  it.each([
    ['http://www.Directory.test/p/Ada/', 'https://directory.test/p/Ada'],
    ['https://directory.test/p/Ada?utm_source=x&b=2&a=1#bio', 'https://directory.test/p/Ada?a=1&b=2'],
    ['https://directory.test:443/p/Ada', 'https://directory.test/p/Ada'],
    ['ftp://directory.test/p/Ada', undefined],
  ])('profile URL %s → %s', (input, key) => {
    expect(normaliseProfileUrl(input)).toBe(key);
  });

  it.each([
    ['Café Zoë Ltd.', 'cafe zoe'],
    ['  CAFÉ   ZOË  ', 'cafe zoe'],
    ['Smith & Sons, Inc', 'smith and sons'],
    ['Bäckerei Müller GmbH', 'backerei muller'],
    ['---', undefined],
  ])('name %s → %s', (input, key) => {
    expect(normaliseName(input)).toBe(key);
  });

  it('keys are idempotent: a key normalises to itself', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (email) => {
        const key = normaliseEmail(email);
        if (key !== undefined) expect(normaliseEmail(key)).toBe(key);
      }),
    );
    fc.assert(
      fc.property(fc.webUrl(), (url) => {
        const domain = normaliseDomain(url);
        if (domain !== undefined) expect(normaliseDomain(domain)).toBe(domain);
        const profile = normaliseProfileUrl(url);
        if (profile !== undefined) expect(normaliseProfileUrl(profile)).toBe(profile);
      }),
    );
  });

  it('case, www., a trailing slash and the scheme never change a domain key', () => {
    fc.assert(
      fc.property(fc.domain(), fc.boolean(), fc.boolean(), fc.boolean(), (domain, www, upper, https) => {
        const host = `${www ? 'www.' : ''}${domain}`;
        const url = `${https ? 'https' : 'http'}://${upper ? host.toUpperCase() : host}/`;
        expect(normaliseDomain(url)).toBe(normaliseDomain(domain));
      }),
    );
  });

  it('a +tag never changes an email key', () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.stringMatching(/^[a-z0-9]{1,8}$/), (email, tag) => {
        const [local, domain] = email.split('@') as [string, string];
        if (local.includes('+')) return;
        expect(normaliseEmail(`${local}+${tag}@${domain}`)).toBe(normaliseEmail(email));
      }),
    );
  });
});

describe('the merge rule', () => {
  const found = (fields: Record<string, string>) =>
    dedupeKeys({ sourceKey: 'k', facts: {}, raw: null, ...fields });

  it('tries email, then external id, then profile URL, then domain with name; a contact wins over a candidate', () => {
    const index = new DedupeIndex();
    index.add(found({ email: 'ada@example.com' }), { contact_id: 'contact-1' });
    index.add(
      found({
        email: 'ada@example.com',
        externalId: 'x1',
        website: 'https://bakery.example',
        name: 'Bakery',
      }),
      { candidate_id: 'cand-1' },
    );
    expect(index.find(found({ email: 'Ada+promo@Example.com' }))).toEqual({
      rule: 'email',
      contact_id: 'contact-1',
    });
    expect(index.find(found({ externalId: 'x1' }))).toEqual({ rule: 'external_id', candidate_id: 'cand-1' });
    expect(
      index.find(found({ website: 'http://www.BAKERY.example/menu', name: 'The Bakery' })),
    ).toBeUndefined();
    expect(index.find(found({ website: 'http://www.BAKERY.example/menu', name: 'Bakery Ltd' }))).toEqual({
      rule: 'domain_name',
      candidate_id: 'cand-1',
    });
  });

  it('a shared domain alone is not a match: the name must agree too', () => {
    const index = new DedupeIndex();
    index.add(found({ website: 'https://mall.example', name: 'Shoe Shop' }), { candidate_id: 'c1' });
    expect(index.find(found({ website: 'https://mall.example', name: 'Hat Shop' }))).toBeUndefined();
    expect(index.find(found({ website: 'https://mall.example' }))).toBeUndefined();
  });

  it('the first entry of a key stays the original', () => {
    fc.assert(
      fc.property(fc.array(fc.emailAddress(), { minLength: 1, maxLength: 20 }), (emails) => {
        const index = new DedupeIndex();
        const firstOf = new Map<string, number>();
        emails.forEach((email, i) => {
          const keys = found({ email });
          const match = index.find(keys);
          const key = keys.email;
          if (key === undefined) return;
          if (firstOf.has(key))
            expect(match).toEqual({ rule: 'email', candidate_id: String(firstOf.get(key)) });
          else {
            expect(match).toBeUndefined();
            firstOf.set(key, i);
            index.add(keys, { candidate_id: String(i) });
          }
        });
      }),
    );
  });
});
