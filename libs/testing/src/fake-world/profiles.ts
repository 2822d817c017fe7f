import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeBusiness, FakePerson } from './businesses';

/**
 * Profile pages on 127.0.0.1: `/people/<id>` (schema.org Person in JSON-LD, OpenGraph, rel=me
 * to the person's business website) and `/businesses/<id>` (LocalBusiness). Hostile pages:
 * `/hostile/slow` (never answers), `/hostile/huge` (an endless body), `/hostile/loop` (redirects
 * to itself), `/hostile/missing` (404). Counts visits per path.
 */
export class FakeProfileSite {
  readonly visits = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(
    world: { businesses: readonly FakeBusiness[]; people: readonly FakePerson[] },
    port = 0,
  ): Promise<FakeProfileSite> {
    const people = new Map(world.people.map((p) => [p.id, p]));
    const businesses = new Map(world.businesses.map((b) => [b.id, b]));
    const holder: { site?: FakeProfileSite } = {};
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      holder.site?.visits.set(path, (holder.site.visits.get(path) ?? 0) + 1);
      if (path === '/hostile/slow') return; // never answers; the client's timeout ends it
      if (path === '/hostile/loop') {
        res.writeHead(302, { location: '/hostile/loop' }).end();
        return;
      }
      if (path === '/hostile/huge') {
        res.writeHead(200, { 'content-type': 'text/html' });
        const chunk = Buffer.alloc(64 * 1024, 'a');
        const pump = () => {
          while (res.write(chunk));
        };
        res.on('drain', pump);
        res.on('close', () => res.off('drain', pump));
        pump();
        return;
      }
      const [, kind, id] = /^\/(people|businesses)\/([^/]+)\/?$/.exec(path) ?? [];
      const person = kind === 'people' && id ? people.get(id) : undefined;
      const business = kind === 'businesses' && id ? businesses.get(id) : undefined;
      if (!person && !business) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const html = person ? personPage(person, world.businesses[person.business]) : businessPage(business!);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    holder.site = new FakeProfileSite(server, (server.address() as AddressInfo).port);
    return holder.site;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function escape(value: string): string {
  return value.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function personPage(person: FakePerson, business: FakeBusiness | undefined): string {
  const ld = {
    '@context': 'https://schema.org',
    '@type': 'Person',
    name: person.name,
    jobTitle: person.jobTitle,
    email: `mailto:${person.email}`,
    ...(business
      ? { url: business.website, worksFor: { '@type': 'LocalBusiness', name: business.name } }
      : {}),
    address: { '@type': 'PostalAddress', addressLocality: person.city, addressCountry: 'FR' },
  };
  return `<!doctype html><html><head><title>${escape(person.name)}</title>
<meta property="og:title" content="${escape(person.name)}"><meta property="og:type" content="profile">
<script type="application/ld+json">${JSON.stringify(ld)}</script></head>
<body><h1>${escape(person.name)}</h1>${business ? `<a rel="me" href="${escape(business.website)}">${escape(business.name)}</a>` : ''}</body></html>`;
}

function businessPage(b: FakeBusiness): string {
  const ld = {
    '@context': 'https://schema.org',
    '@graph': [
      {
        '@type': 'LocalBusiness',
        name: b.name,
        url: b.website,
        email: b.email,
        telephone: b.phone,
        address: {
          '@type': 'PostalAddress',
          streetAddress: b.address.street,
          addressLocality: b.address.city,
          postalCode: b.address.postal_code,
          addressCountry: b.address.country,
        },
      },
    ],
  };
  return `<!doctype html><html><head><title>${escape(b.name)}</title>
<meta property="og:title" content="${escape(b.name)}"><meta property="og:url" content="${escape(b.website)}">
<script type="application/ld+json">${JSON.stringify(ld)}</script></head><body><h1>${escape(b.name)}</h1></body></html>`;
}
