import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CandidateField, HttpDirectoryConfig } from '../accounts/source-account';
import type { Batch, ConnectorContext, FoundCandidate, SourceConnector } from './connector';
import { guardedGet, SourceFetchError } from './guarded-fetch';
import { readPath, text } from './json-path';

/** Search criteria: flat filters sent as query parameters (renamed by the account's `query_params`). */
const criteria = z
  .record(
    z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'criteria keys are lowercase words (a-z, 0-9, _)'),
    z.union([z.string().max(500), z.number().finite(), z.boolean()], 'must be a string, number or boolean'),
  )
  .refine((c) => Object.keys(c).length <= 30, 'at most 30 criteria');

/**
 * A paged JSON search API: criteria become query parameters, the account's key goes in its
 * auth header, and each page (one request, one quota unit) is mapped to candidates field by
 * field. Cursor pagination follows the provider's next cursor; page pagination counts pages and
 * stops at a short page.
 */
export class HttpDirectoryConnector implements SourceConnector<'http-directory'> {
  readonly kind = 'http-directory' as const;
  readonly criteria = criteria;

  requestsPerStep(): number {
    return 1;
  }

  plannedRequests(ctx: Omit<ConnectorContext<'http-directory'>, 'guard' | 'cursor'>, limit: number): number {
    return Math.ceil(limit / ctx.account.config.page_size);
  }

  async step(ctx: ConnectorContext<'http-directory'>): Promise<Batch> {
    const config = ctx.account.config;
    const url = searchUrl(config, ctx.criteria, ctx.cursor);
    const page = await guardedGet(url, {
      guard: ctx.guard,
      timeoutMs: config.timeout_ms,
      maxBytes: config.max_bytes,
      maxRedirects: 3,
      headers: {
        accept: 'application/json',
        ...(config.api_key
          ? {
              [config.auth_header]: config.auth_scheme
                ? `${config.auth_scheme} ${config.api_key}`
                : config.api_key,
            }
          : {}),
      },
    });
    if (page.status < 200 || page.status >= 300)
      throw new SourceFetchError(
        'http',
        `directory ${new URL(url).host} answered ${page.status}`,
        page.status,
      );
    let body: unknown;
    try {
      body = JSON.parse(page.body.toString('utf8'));
    } catch {
      throw new SourceFetchError(
        'http',
        `directory ${new URL(url).host} answered something that is not JSON`,
      );
    }
    const results = readPath(body, config.results_path);
    if (!Array.isArray(results))
      throw new SourceFetchError('http', `directory answer has no array at ${config.results_path}`);
    const candidates = results.flatMap((item) => {
      const found = mapItem(config, item);
      return found ? [found] : [];
    });
    return { candidates, next: nextCursor(config, body, ctx.cursor, results.length) };
  }
}

function searchUrl(
  config: HttpDirectoryConfig,
  criteria: Record<string, unknown>,
  cursor: string | null,
): string {
  const url = new URL(config.base_url);
  for (const [key, value] of Object.entries(criteria))
    url.searchParams.set(config.query_params[key] ?? key, String(value));
  url.searchParams.set(config.page_size_param, String(config.page_size));
  if (config.pagination === 'page') url.searchParams.set(config.page_param, cursor ?? '1');
  else if (cursor !== null) url.searchParams.set(config.cursor_param, cursor);
  return url.toString();
}

function nextCursor(
  config: HttpDirectoryConfig,
  body: unknown,
  cursor: string | null,
  count: number,
): string | null {
  if (config.pagination === 'page')
    return count < config.page_size || count === 0 ? null : String(Number(cursor ?? '1') + 1);
  const next = text(readPath(body, config.next_cursor_path), 1000);
  return next === undefined || next === cursor ? null : next;
}

function mapItem(config: HttpDirectoryConfig, item: unknown): FoundCandidate | undefined {
  if (item === null || typeof item !== 'object') return undefined;
  const field = (name: CandidateField) => {
    const path = config.mapping[name];
    return path === undefined ? undefined : readPath(item, path);
  };
  const address = field('address');
  const found = {
    name: text(field('name'), 300),
    website: text(field('website'), 2048),
    email: text(field('email'), 320),
    phone: text(field('phone'), 64),
    address:
      address && typeof address === 'object'
        ? (address as Record<string, unknown>)
        : text(address) !== undefined
          ? { text: text(address) }
          : undefined,
    category: text(field('category'), 200),
    externalId: text(field('external_id'), 300),
    profileUrl: text(field('profile_url'), 2048),
  };
  const sourceKey = found.externalId
    ? `id:${found.externalId}`
    : found.profileUrl
      ? `url:${found.profileUrl}`
      : found.website
        ? `web:${found.website}`
        : `raw:${createHash('sha256').update(JSON.stringify(item)).digest('hex').slice(0, 32)}`;
  return { ...found, sourceKey: sourceKey.slice(0, 500), facts: { directory: item }, raw: item };
}
