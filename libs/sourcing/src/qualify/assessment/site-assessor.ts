import type { OutboundGuard } from '@herald/channels';
import robotsParser from 'robots-parser';
import type { DataSource } from 'typeorm';
import type { QualifyMetrics } from '../qualify-metrics';
import type { DomainPacer } from './domain-pacer';
import type { FetchSlots } from '../fetch-slots';
import { FetchError, FetchSession, type FetchLimits } from './page-fetcher';
import { pageFacts } from './page-facts';
import { websiteDomain, type SiteAssessment } from './site-assessment';

export interface SiteAssessorOptions {
  readonly guard: OutboundGuard;
  readonly pacer: DomainPacer;
  /** The worker's open-request bound, shared with enrichment. */
  readonly slots: FetchSlots;
  readonly dataSource: DataSource;
  readonly metrics: QualifyMetrics;
  readonly limits: FetchLimits;
  readonly cacheTtlSeconds: number;
}

/** The robot name robots.txt rules are matched against (its User-agent token). */
export const ROBOT_NAME = 'HeraldBot';
const ROBOTS_MAX_BYTES = 64 * 1024;

/**
 * Assesses a website once per tenant and domain per TTL: the cached answer when there is one,
 * otherwise robots.txt then the page, each request waiting for the domain's one-per-second
 * slot. A site that fails (timeout, refused address, loop) is an answer too, cached like the
 * others: the candidate is assessed as unreachable, never retried into the ground.
 */
export class SiteAssessor {
  constructor(private readonly options: SiteAssessorOptions) {}

  async assess(tenantId: string, website: string): Promise<SiteAssessment> {
    return (await this.assessMany(tenantId, [website])).get(website)!;
  }

  /**
   * Assesses a batch's websites: the cached answers in one read, each domain not cached fetched
   * once (side by side, within the fetch slots and the domains' pace), the new answers stored
   * in one write. Keyed by the website as given.
   */
  async assessMany(tenantId: string, websites: readonly string[]): Promise<Map<string, SiteAssessment>> {
    const results = new Map<string, SiteAssessment>();
    const targets = new Map<string, { url: string; domain: string }>();
    for (const website of websites) {
      const target = websiteDomain(website);
      if (target) targets.set(website, target);
      else results.set(website, failed(website, '', 'bad_url', 'the website is not an http(s) URL'));
    }
    const domains = [...new Set([...targets.values()].map((t) => t.domain))];
    const cached = await this.cached(tenantId, domains);
    const fetching = new Map<string, Promise<SiteAssessment>>();
    for (const target of targets.values()) {
      const hit = cached.has(target.domain);
      this.options.metrics.cache.inc({ cache: 'assessment', result: hit ? 'hit' : 'miss' });
      if (!hit && !fetching.has(target.domain)) fetching.set(target.domain, this.timedFetch(target));
    }
    const settled = await Promise.allSettled(fetching.values());
    const fetched = settled.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    await this.store(tenantId, fetched);
    // A domain whose turn never came (DomainBusyError) fails the batch, after the others are kept.
    const failure = settled.find((o) => o.status === 'rejected');
    if (failure) throw failure.reason;
    const answers = new Map([...cached, ...fetched.map((r) => [r.domain, r] as const)]);
    for (const [website, target] of targets) results.set(website, answers.get(target.domain)!);
    return results;
  }

  private async timedFetch(target: { url: string; domain: string }): Promise<SiteAssessment> {
    const started = performance.now();
    const result = await this.fetchAndRead(target.url, target.domain);
    this.options.metrics.assessmentSeconds.observe((performance.now() - started) / 1000);
    this.options.metrics.requests.inc({ kind: 'assess', outcome: result.error ?? 'ok' });
    return result;
  }

  private async fetchAndRead(url: string, domain: string): Promise<SiteAssessment> {
    const { guard, pacer, slots, limits } = this.options;
    const wait = limits.timeoutMs * 3;
    // robots.txt and the page share a connection (and its TLS handshake), a second apart.
    const session = new FetchSession(guard, limits.timeoutMs);
    try {
      const robotsUrl = new URL('/robots.txt', url).toString();
      const robots = await pacer
        .run(domain, wait, slots, () => session.fetch(robotsUrl, { ...limits, maxBytes: ROBOTS_MAX_BYTES }))
        .catch((error: unknown) => {
          // Only a refused address stops here; an unreachable robots.txt allows, the page will tell.
          if (error instanceof FetchError && (error.failure === 'address_refused' || error.failure === 'dns'))
            throw error;
          if (error instanceof FetchError) return undefined;
          throw error;
        });
      if (robots && robots.status >= 200 && robots.status < 300) {
        const allowed = robotsParser(robots.finalUrl, robots.body).isAllowed(url, ROBOT_NAME);
        if (allowed === false)
          return failed(url, domain, 'robots_disallowed', `robots.txt disallows ${ROBOT_NAME} on this page`);
      }
      // The page is read into facts inside its slot: at most `slots` bodies are held at once.
      const { page, facts } = await pacer.run(domain, wait, slots, async () => {
        const fetched = await session.fetch(url, limits);
        return { page: fetched, facts: pageFacts(fetched.body) };
      });
      return {
        url,
        domain,
        final_url: page.finalUrl,
        status: page.status,
        https: page.https,
        cert_valid: page.certValid,
        cert_error: page.certError,
        ttfb_ms: page.ttfbMs,
        total_ms: page.totalMs,
        bytes: page.bytes,
        truncated: page.truncated,
        redirects: page.redirects,
        title: facts.title,
        description: facts.description,
        viewport: facts.viewport,
        generator: facts.generator,
        email_found: facts.emails.length > 0,
        phone_found: facts.phones.length > 0,
        emails: facts.emails,
        phones: facts.phones,
        error: null,
        error_detail: null,
        assessed_at: new Date().toISOString(),
      };
    } catch (error) {
      if (error instanceof FetchError)
        return failed(url, domain, error.failure, error.message, error.redirects);
      throw error;
    } finally {
      await session.close();
    }
  }

  private async cached(tenantId: string, domains: readonly string[]): Promise<Map<string, SiteAssessment>> {
    if (domains.length === 0) return new Map();
    const rows = await this.options.dataSource.query<{ domain: string; result: SiteAssessment }[]>(
      `SELECT domain, result FROM site_assessments
        WHERE tenant_id = $1 AND domain = ANY ($2::text[]) AND expires_at > now()`,
      [tenantId, domains],
    );
    return new Map(rows.map((r) => [r.domain, r.result]));
  }

  private async store(tenantId: string, results: readonly SiteAssessment[]): Promise<void> {
    const rows = results.filter((r) => r.domain !== '');
    if (rows.length === 0) return;
    await this.options.dataSource.query(
      `INSERT INTO site_assessments (tenant_id, domain, result, fetched_at, expires_at)
       SELECT $1, r->>'domain', r, now(), now() + make_interval(secs => $3)
         FROM jsonb_array_elements($2::jsonb) AS r
       ON CONFLICT (tenant_id, domain) DO UPDATE
         SET result = EXCLUDED.result, fetched_at = EXCLUDED.fetched_at, expires_at = EXCLUDED.expires_at`,
      [tenantId, JSON.stringify(rows), this.options.cacheTtlSeconds],
    );
  }
}

function failed(
  url: string,
  domain: string,
  error: NonNullable<SiteAssessment['error']>,
  detail: string,
  redirects = 0,
): SiteAssessment {
  return {
    url,
    domain,
    final_url: null,
    status: null,
    https: false,
    cert_valid: null,
    cert_error: null,
    ttfb_ms: null,
    total_ms: null,
    bytes: 0,
    truncated: false,
    redirects,
    title: null,
    description: null,
    viewport: false,
    generator: null,
    email_found: false,
    phone_found: false,
    emails: [],
    phones: [],
    error,
    error_detail: detail,
    assessed_at: new Date().toISOString(),
  };
}
