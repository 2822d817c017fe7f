import { domainToASCII } from 'node:url';

/**
 * The keys candidates are deduplicated by (docs/sourcing.md, "Dedupe"). Pure functions; each
 * returns undefined for input it cannot make a key of, which then matches nothing.
 */

/** Providers where dots in the local part are ignored (the same mailbox). */
const DOTLESS_DOMAINS: Readonly<Record<string, string>> = {
  'gmail.com': 'gmail.com',
  'googlemail.com': 'gmail.com',
};

/**
 * Email: trimmed and lowercased; a `+tag` is dropped for every domain (sub-addressing reaches
 * the same mailbox at nearly every provider that accepts it); dots are dropped only at Gmail,
 * whose googlemail.com is gmail.com; the domain in punycode. The SQL function
 * `sourcing_email_key` computes the same key for contacts' (ASCII) emails.
 */
export function normaliseEmail(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const parts = value.trim().toLowerCase().split('@');
  if (parts.length !== 2) return undefined;
  let [local, domain] = parts as [string, string];
  local = local.split('+')[0]!;
  domain = domainToASCII(domain);
  if (!local || !domain) return undefined;
  const dotless = DOTLESS_DOMAINS[domain];
  if (dotless) return `${local.replaceAll('.', '')}@${dotless}`;
  return `${local}@${domain}`;
}

/**
 * A website's domain: the host of the URL (a scheme is optional), in punycode, lowercase,
 * without a leading `www.` or a trailing dot; scheme, port, path, query and slashes ignored.
 */
export function normaliseDomain(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (!trimmed) return undefined;
  let host: string;
  try {
    host = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`).hostname;
  } catch {
    return undefined;
  }
  const ascii = domainToASCII(host.replace(/\.$/, '')).toLowerCase();
  const bare = ascii.replace(/^www\./, '');
  return bare.includes('.') ? bare : undefined;
}

/** Query parameters that only say where a click came from. */
const TRACKING = /^(utm_[a-z]+|fbclid|gclid|ref|ref_src)$/i;

/**
 * A profile URL: https, the host as a website domain is normalised (so `www.` and case do not
 * matter), the path without a trailing slash (case kept: profile handles can be case-sensitive),
 * tracking parameters and the fragment dropped, the other parameters sorted.
 */
export function normaliseProfileUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const host = normaliseDomain(url.hostname) ?? url.hostname.toLowerCase();
  const port = url.port && url.port !== '80' && url.port !== '443' ? `:${url.port}` : '';
  const path = url.pathname.replace(/\/+$/, '');
  const params = [...url.searchParams.entries()]
    .filter(([k]) => !TRACKING.test(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = params.length > 0 ? `?${new URLSearchParams(params).toString()}` : '';
  return `https://${host}${port}${path}${query}`;
}

/** Legal forms dropped from the end of a business name. */
const LEGAL_FORMS =
  /\s+(inc|incorporated|ltd|limited|llc|llp|plc|gmbh|ag|sarl|sas|sa|bv|nv|srl|spa|oy|ab|co|corp|corporation|company)$/;

/**
 * A name: Unicode-folded (NFKD, accents dropped), lowercase, `&` as `and`, punctuation as space,
 * spaces collapsed, one trailing legal form dropped ("Café Zoë Ltd." → "cafe zoe").
 */
export function normaliseName(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const folded = value
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replaceAll('&', ' and ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .replace(/\s+/g, ' ')
    .replace(LEGAL_FORMS, '');
  return folded === '' ? undefined : folded;
}
