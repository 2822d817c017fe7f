import { load } from 'cheerio';
import { text } from './json-path';

/** What a profile page says about its subject, from its structured data. */
export interface ProfileData {
  /** schema.org nodes of a type we read (Person, Organization, LocalBusiness and its subtypes). */
  jsonLd: Record<string, unknown>[];
  openGraph: Record<string, string>;
  relMe: string[];
  title?: string | undefined;
}

const LOCAL_BUSINESS_TYPES =
  /^(Person|Organization|LocalBusiness|Corporation|ProfessionalService|Store|Restaurant|[A-Za-z]+Business)$/;

/**
 * Structured data of a profile page with cheerio: schema.org JSON-LD (`Person`, `Organization`,
 * `LocalBusiness`, also inside `@graph` and arrays), OpenGraph `og:*` properties and `rel=me`
 * links (resolved against the page's URL). Malformed JSON-LD blocks are skipped, not fatal.
 */
export function extractProfile(html: string, pageUrl: string): ProfileData {
  const $ = load(html);
  const jsonLd: Record<string, unknown>[] = [];
  $('script[type="application/ld+json"]').each((_, element) => {
    try {
      collectNodes(JSON.parse($(element).text()) as unknown, jsonLd, 0);
    } catch {
      // A broken block says nothing; the others may.
    }
  });
  const openGraph: Record<string, string> = {};
  $('meta[property^="og:"]').each((_, element) => {
    const property = $(element).attr('property');
    const content = $(element).attr('content');
    if (property && content && !(property in openGraph)) openGraph[property] = content.slice(0, 2000);
  });
  const relMe = new Set<string>();
  $('a[rel~="me"], link[rel~="me"]').each((_, element) => {
    const href = $(element).attr('href');
    if (!href) return;
    try {
      relMe.add(new URL(href, pageUrl).toString());
    } catch {
      // Not a URL.
    }
  });
  return { jsonLd, openGraph, relMe: [...relMe].slice(0, 50), title: text($('title').first().text(), 300) };
}

function collectNodes(value: unknown, out: Record<string, unknown>[], depth: number): void {
  if (depth > 5 || out.length >= 20 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) collectNodes(item, out, depth + 1);
    return;
  }
  const node = value as Record<string, unknown>;
  if (Array.isArray(node['@graph'])) collectNodes(node['@graph'], out, depth + 1);
  const types = ([] as unknown[]).concat(node['@type'] ?? []);
  if (types.some((t) => typeof t === 'string' && LOCAL_BUSINESS_TYPES.test(t))) out.push(node);
}

/** The candidate fields a profile gives: JSON-LD first, then OpenGraph, then the page itself. */
export function profileFields(data: ProfileData, pageUrl: string) {
  const node = data.jsonLd[0] ?? {};
  const types = ([] as unknown[]).concat(node['@type'] ?? []).filter((t) => typeof t === 'string');
  const url = text(node.url, 2048);
  const sameAs = ([] as unknown[])
    .concat(node.sameAs ?? [])
    .flatMap((s) => (typeof s === 'string' ? [s] : []));
  const website =
    url && !sameUrl(url, pageUrl)
      ? url
      : [...data.relMe, ...sameAs].find((link) => !sameUrl(link, pageUrl) && !isSocial(link));
  const email = text(node.email, 320)?.replace(/^mailto:/i, '');
  return {
    name: text(node.name, 300) ?? text(data.openGraph['og:title'], 300) ?? data.title,
    website,
    email,
    phone: text(node.telephone, 64),
    address: postalAddress(node.address),
    category: text(node.jobTitle, 200) ?? types[0],
  };
}

function postalAddress(value: unknown): Record<string, unknown> | undefined {
  if (typeof value === 'string') return { text: value.slice(0, 500) };
  if (value === null || typeof value !== 'object') return undefined;
  const a = value as Record<string, unknown>;
  const address = {
    street: text(a.streetAddress, 300),
    city: text(a.addressLocality, 200),
    region: text(a.addressRegion, 200),
    postal_code: text(a.postalCode, 32),
    country: text(a.addressCountry, 100),
  };
  const present = Object.fromEntries(Object.entries(address).filter(([, v]) => v !== undefined));
  return Object.keys(present).length > 0 ? present : undefined;
}

function sameUrl(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.host === y.host && x.pathname.replace(/\/$/, '') === y.pathname.replace(/\/$/, '');
  } catch {
    return false;
  }
}

const SOCIAL = /(^|\.)(twitter|x|facebook|instagram|linkedin|github|mastodon\.social|youtube|tiktok)\.com$/i;

function isSocial(link: string): boolean {
  try {
    return SOCIAL.test(new URL(link).hostname);
  } catch {
    return true;
  }
}
