import { load } from 'cheerio';

export interface PageFacts {
  readonly title: string | null;
  readonly description: string | null;
  readonly viewport: boolean;
  readonly generator: string | null;
  readonly emails: string[];
  readonly phones: string[];
}

const EMAIL = /[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}/gi;
/** A phone as written on a page: + or digit, then 7+ digits with spaces, dots, dashes, parentheses. */
const PHONE = /(?:\+|\b)\d[\d\s().-]{6,}\d/g;
const MAX_FOUND = 5;

/** Generator hints a page gives without a generator meta: markup that betrays the builder. */
const MARKERS: readonly [RegExp, string][] = [
  [/\/wp-content\/|\/wp-includes\//i, 'WordPress'],
  [/static\.wixstatic\.com|wix\.com/i, 'Wix'],
  [/squarespace\.com|static1\.squarespace/i, 'Squarespace'],
  [/cdn\.shopify\.com/i, 'Shopify'],
];

/** What an assessment reads off a page's HTML (cheerio; scripts and styles ignored). */
export function pageFacts(html: string): PageFacts {
  const $ = load(html);
  const meta = (name: string) => $(`meta[name="${name}" i]`).attr('content')?.trim() || null;
  const mailto = $('a[href^="mailto:" i]')
    .map((_, a) => ($(a).attr('href') ?? '').slice(7).split('?')[0] ?? '')
    .get();
  const tel = $('a[href^="tel:" i]')
    .map((_, a) => ($(a).attr('href') ?? '').slice(4))
    .get();
  $('script, style, noscript').remove();
  const text = $('body').text();
  const generator = meta('generator') ?? MARKERS.find(([re]) => re.test(html))?.[1] ?? null;
  return {
    title: $('title').first().text().trim().slice(0, 300) || null,
    description: meta('description')?.slice(0, 500) ?? null,
    viewport: /width\s*=\s*device-width/i.test(meta('viewport') ?? ''),
    generator: generator?.slice(0, 100) ?? null,
    emails: distinct([...mailto, ...(text.match(EMAIL) ?? [])].map((e) => e.trim().toLowerCase())),
    phones: distinct([...tel, ...(text.match(PHONE) ?? [])].map((p) => p.replace(/[^\d+]/g, ''))).filter(
      (p) => p.replace('+', '').length >= 7 && p.replace('+', '').length <= 15,
    ),
  };
}

function distinct(values: string[]): string[] {
  return [...new Set(values.filter((v) => v !== ''))].slice(0, MAX_FOUND);
}
