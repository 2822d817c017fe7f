import type { OutboundGuard } from '@herald/channels';
import robotsParser from 'robots-parser';
import type { DataSource, EntityManager } from 'typeorm';
import type { QualifyMetrics } from '../qualify-metrics';
import type { DomainPacer } from './domain-pacer';
import { fetchPage, FetchError, type FetchLimits } from './page-fetcher';
import { pageFacts } from './page-facts';
import { websiteDomain, type SiteAssessment } from './site-assessment';

export interface SiteAssessorOptions {
  readonly guard: OutboundGuard;
  readonly pacer: DomainPacer;
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
    const target = websiteDomain(website);
    if (!target) return failed(website, '', 'bad_url', 'the website is not an http(s) URL');
    const cached = await this.cached(tenantId, target.domain);
    this.options.metrics.cache.inc({ cache: 'assessment', result: cached ? 'hit' : 'miss' });
    if (cached) return cached;
    const started = performance.now();
    const result = await this.fetchAndRead(target.url, target.domain);
    this.options.metrics.assessmentSeconds.observe((performance.now() - started) / 1000);
    this.options.metrics.requests.inc({ kind: 'assess', outcome: result.error ?? 'ok' });
    await this.store(this.options.dataSource.manager, tenantId, result);
    return result;
  }

  private async fetchAndRead(url: string, domain: string): Promise<SiteAssessment> {
    const { guard, pacer, limits } = this.options;
    const wait = limits.timeoutMs * 3;
    try {
      const robotsUrl = new URL('/robots.txt', url).toString();
      await pacer.acquire(domain, wait);
      const robots = await fetchPage(guard, robotsUrl, { ...limits, maxBytes: ROBOTS_MAX_BYTES }).catch(
        (error: unknown) => {
          // Only a refused address stops here; an unreachable robots.txt allows, the page will tell.
          if (error instanceof FetchError && (error.failure === 'address_refused' || error.failure === 'dns'))
            throw error;
          return undefined;
        },
      );
      if (robots && robots.status >= 200 && robots.status < 300) {
        const allowed = robotsParser(robots.finalUrl, robots.body).isAllowed(url, ROBOT_NAME);
        if (allowed === false)
          return failed(url, domain, 'robots_disallowed', `robots.txt disallows ${ROBOT_NAME} on this page`);
      }
      await pacer.acquire(domain, wait);
      const page = await fetchPage(guard, url, limits);
      const facts = pageFacts(page.body);
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
    }
  }

  private async cached(tenantId: string, domain: string): Promise<SiteAssessment | undefined> {
    const [row] = await this.options.dataSource.query<{ result: SiteAssessment }[]>(
      `SELECT result FROM site_assessments WHERE tenant_id = $1 AND domain = $2 AND expires_at > now()`,
      [tenantId, domain],
    );
    return row?.result;
  }

  private async store(manager: EntityManager, tenantId: string, result: SiteAssessment): Promise<void> {
    if (result.domain === '') return;
    await manager.query(
      `INSERT INTO site_assessments (tenant_id, domain, result, fetched_at, expires_at)
       VALUES ($1, $2, $3, now(), now() + make_interval(secs => $4))
       ON CONFLICT (tenant_id, domain) DO UPDATE
         SET result = EXCLUDED.result, fetched_at = EXCLUDED.fetched_at, expires_at = EXCLUDED.expires_at`,
      [tenantId, result.domain, JSON.stringify(result), this.options.cacheTtlSeconds],
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
