/** What an assessment learned of a website: stored in candidates.facts.assessment and the cache. */
export interface SiteAssessment {
  readonly url: string;
  readonly domain: string;
  readonly final_url: string | null;
  readonly status: number | null;
  readonly https: boolean;
  readonly cert_valid: boolean | null;
  readonly cert_error: string | null;
  readonly ttfb_ms: number | null;
  readonly total_ms: number | null;
  readonly bytes: number;
  readonly truncated: boolean;
  readonly redirects: number;
  readonly title: string | null;
  readonly description: string | null;
  readonly viewport: boolean;
  readonly generator: string | null;
  readonly email_found: boolean;
  readonly phone_found: boolean;
  readonly emails: string[];
  readonly phones: string[];
  /** Null when the page was fetched (whatever its status); otherwise why not. */
  readonly error:
    | null
    | 'bad_url'
    | 'dns'
    | 'address_refused'
    | 'connect_failed'
    | 'timeout'
    | 'too_many_redirects'
    | 'robots_disallowed';
  readonly error_detail: string | null;
  readonly assessed_at: string;
}

/**
 * The domain a website is cached and paced by: its host, lower case, punycode, without a
 * leading `www.`, a trailing dot or the port. Undefined when the website is not an http(s) URL
 * (a bare `example.com` is read as http).
 */
export function websiteDomain(website: string): { url: string; domain: string } | undefined {
  const text = website.trim();
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const domain = url.hostname.replace(/\.$/, '').replace(/^www\./, '');
  if (domain === '') return undefined;
  return { url: url.toString(), domain };
}
