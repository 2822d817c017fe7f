import { load } from 'cheerio';

export interface PageFacts {
  readonly title: string | null;
  readonly description: string | null;
  readonly viewport: boolean;
  readonly generator: string | null;
  readonly emails: string[];
  readonly phones: string[];
}

/*
 * Bounded repetitions only: a hostile page is a long run of one character, and an unbounded
 * `[a-z]+@` backtracks over it quadratically (64 KiB of "x" took 40 s).
 */
const EMAIL =
  /(?<![a-z0-9._%+-])[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,4}\.[a-z]{2,24}/gi;
/** A phone as written on a page: + or digit, then 7 to 20 digits with spaces, dots, dashes, parentheses. */
const PHONE = /(?:\+|\b)\d[\d\s().-]{6,20}\d/g;
/** Body text searched for contact details at most (a page's contacts are near its start or end). */
const MAX_TEXT = 200_000;
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
  const whole = $('body').text();
  const text =
    whole.length > MAX_TEXT ? `${whole.slice(0, MAX_TEXT / 2)} ${whole.slice(-MAX_TEXT / 2)}` : whole;
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
