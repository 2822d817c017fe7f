import { z } from 'zod';
import { normaliseProfileUrl } from '../dedupe/normalise';
import { httpUrl } from '../accounts/source-account';
import type { Batch, ConnectorContext, SourceConnector } from './connector';
import { guardedGet, SourceFetchError } from './guarded-fetch';
import { extractProfile, profileFields } from './profile-extract';

const MAX_URLS = 10_000;

const criteria = z.strictObject({
  profile_urls: z
    .array(httpUrl, 'must be an array of profile URLs')
    .min(1, 'must list at least one profile URL')
    .max(MAX_URLS, `at most ${MAX_URLS} profile URLs per job`),
});

/**
 * Visits profile URLs one at a time (one visit, one quota unit: visit quotas are what keeps a
 * visiting account from being banned) and reads their structured data. A visit that fails
 * permanently (404, refused address, too large) keeps its candidate, rejected with the reason;
 * a transient failure (timeout, 5xx) fails the step, to be retried from the same cursor.
 */
export class ProfileVisitConnector implements SourceConnector<'profile-visit'> {
  readonly kind = 'profile-visit' as const;
  readonly criteria = criteria as z.ZodType<Record<string, unknown>>;

  requestsPerStep(): number {
    return 1;
  }

  plannedRequests(ctx: Omit<ConnectorContext<'profile-visit'>, 'guard' | 'cursor'>, limit: number): number {
    return Math.min(limit, urlsOf(ctx.criteria).length);
  }

  async step(ctx: ConnectorContext<'profile-visit'>): Promise<Batch> {
    const urls = urlsOf(ctx.criteria);
    const index = ctx.cursor === null ? 0 : Number(ctx.cursor);
    const url = urls[index];
    if (url === undefined) return { candidates: [], next: null };
    const next = index + 1 < urls.length ? String(index + 1) : null;
    const config = ctx.account.config;
    const sourceKey = `url:${normaliseProfileUrl(url) ?? url}`.slice(0, 500);
    try {
      const page = await guardedGet(url, {
        guard: ctx.guard,
        timeoutMs: config.timeout_ms,
        maxBytes: config.max_bytes,
        maxRedirects: config.max_redirects,
        headers: {
          accept: 'text/html,application/xhtml+xml',
          ...(config.user_agent ? { 'user-agent': config.user_agent } : {}),
          ...(config.cookie ? { cookie: config.cookie } : {}),
        },
      });
      if (page.status < 200 || page.status >= 300)
        throw new SourceFetchError(
          'http',
          `profile ${new URL(url).host} answered ${page.status}`,
          page.status,
        );
      const data = extractProfile(page.body.toString('utf8'), page.url);
      const fields = profileFields(data, page.url);
      return {
        candidates: [
          {
            sourceKey,
            ...fields,
            profileUrl: url,
            facts: { profile: { json_ld: data.jsonLd, open_graph: data.openGraph, rel_me: data.relMe } },
            raw: { url: page.url, json_ld: data.jsonLd, open_graph: data.openGraph, rel_me: data.relMe },
          },
        ],
        next,
      };
    } catch (error) {
      if (!(error instanceof SourceFetchError) || error.transient) throw error;
      return {
        candidates: [
          { sourceKey, profileUrl: url, facts: {}, raw: { url }, failure: `visit failed: ${error.message}` },
        ],
        next,
      };
    }
  }
}

function urlsOf(criteria: Record<string, unknown>): string[] {
  return (criteria.profile_urls as string[] | undefined) ?? [];
}
