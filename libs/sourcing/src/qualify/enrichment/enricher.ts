import type { CredentialCipher, OutboundGuard } from '@herald/channels';
import { sourceCredentialsContext } from '../../accounts/source-accounts.repository';
import type { QuotaService } from '@herald/rate-limit';
import type { CircuitBreaker } from '@herald/resilience';
import type { DataSource } from 'typeorm';
import { fetchPage, FetchError } from '../assessment/page-fetcher';
import type { QualifyMetrics } from '../qualify-metrics';
import { readPath } from '../scoring/score';
import { enrichmentConfigSchema, type EnrichmentConfig } from './enrichment-config';

export interface EnricherOptions {
  readonly dataSource: DataSource;
  readonly cipher: CredentialCipher;
  readonly quota: QuotaService;
  readonly breaker: CircuitBreaker;
  readonly guard: OutboundGuard;
  readonly metrics: QualifyMetrics;
  readonly cacheTtlSeconds: number;
  readonly timeoutMs: number;
  readonly userAgent: string;
}

export interface EnrichmentSubject {
  readonly candidateId: string;
  readonly email: string | null;
  readonly domain: string | null;
}

/** What enrichment gave a candidate: fields, nothing to look up / not found, or an error that marks it. */
export type EnrichmentOutcome =
  | { readonly kind: 'enriched'; readonly accountId: string; readonly fields: Record<string, unknown> }
  | { readonly kind: 'not_found' | 'skipped'; readonly accountId: string | null }
  | { readonly kind: 'failed'; readonly accountId: string; readonly error: string };

interface AccountRow {
  id: string;
  credentials: string;
  time_zone: string;
  quota_hourly: number | null;
  quota_daily: number | null;
  quota_weekly: number | null;
}

const BREAKER_CHANNEL = 'enrichment';

/**
 * Enriches a candidate through the tenant's http-enrichment source account (the oldest active
 * one; none: skipped). The answer, found or not, is cached per tenant, account and lookup key
 * for a TTL. A lookup spends one unit of the account's quota under a key derived from the
 * candidate, so a repeated batch replays its reservation instead of spending twice; the
 * account's breaker (fleet-wide) stops calls to a failing provider. Any failure is returned,
 * never thrown: it marks the candidate, never fails the run.
 */
export class Enricher {
  constructor(private readonly options: EnricherOptions) {}

  async enrich(tenantId: string, subject: EnrichmentSubject): Promise<EnrichmentOutcome> {
    const account = await this.account(tenantId);
    if (!account) return { kind: 'skipped', accountId: null };
    let config: EnrichmentConfig;
    try {
      const plain: unknown = JSON.parse(
        this.options.cipher.decrypt(account.credentials, sourceCredentialsContext(tenantId, account.id)),
      );
      config = enrichmentConfigSchema.parse(plain);
    } catch {
      return {
        kind: 'failed',
        accountId: account.id,
        error: 'invalid_config: the account config cannot be read',
      };
    }
    const key = lookupKey(config, subject);
    if (!key) return { kind: 'skipped', accountId: account.id };
    const cached = await this.cached(tenantId, account.id, key);
    this.options.metrics.cache.inc({ cache: 'enrichment', result: cached ? 'hit' : 'miss' });
    if (cached)
      return cached.not_found
        ? { kind: 'not_found', accountId: account.id }
        : { kind: 'enriched', accountId: account.id, fields: cached };

    const circuit = { channel: BREAKER_CHANNEL, account: account.id };
    const gate = await this.options.breaker.acquire(circuit);
    if (!gate.allowed)
      return this.failed(account.id, 'breaker_open: the provider failed repeatedly; calls resume later');
    const reserved = await this.options.quota.reserve({
      account: {
        id: `source:${account.id}`,
        timeZone: account.time_zone,
        limits: {
          ...(account.quota_hourly === null ? {} : { hour: account.quota_hourly }),
          ...(account.quota_daily === null ? {} : { day: account.quota_daily }),
          ...(account.quota_weekly === null ? {} : { week: account.quota_weekly }),
        },
      },
      reservationId: `enrich:${tenantId}:${subject.candidateId}`,
    });
    if (!reserved.admitted)
      return this.failed(account.id, `quota_${reserved.reason}: the account's lookups are used up for now`);

    const url = new URL(config.url);
    url.searchParams.set(key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1));
    let answer;
    try {
      answer = await fetchPage(this.options.guard, url.toString(), {
        timeoutMs: this.options.timeoutMs,
        maxBytes: 256 * 1024,
        maxRedirects: 0,
        userAgent: this.options.userAgent,
        headers: { [config.auth_header]: config.api_key, accept: 'application/json' },
      });
    } catch (error) {
      await this.options.breaker.recordFailure(circuit);
      if (error instanceof FetchError && !['timeout', 'too_many_redirects'].includes(error.failure))
        await this.options.quota.refund(reserved.reservation);
      else await this.options.quota.commit(reserved.reservation);
      return this.failed(
        account.id,
        error instanceof FetchError ? `${error.failure}: ${error.message}` : 'error',
      );
    }
    await this.options.quota.commit(reserved.reservation);
    if (answer.status === 404) {
      await this.options.breaker.recordSuccess(circuit);
      await this.store(tenantId, account.id, key, { not_found: true });
      this.options.metrics.requests.inc({ kind: 'enrich', outcome: 'not_found' });
      return { kind: 'not_found', accountId: account.id };
    }
    if (answer.status < 200 || answer.status >= 300) {
      await this.options.breaker.recordFailure(circuit);
      return this.failed(account.id, `http_${answer.status}: the provider answered ${answer.status}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      await this.options.breaker.recordFailure(circuit);
      return this.failed(account.id, 'bad_answer: the provider did not answer JSON');
    }
    await this.options.breaker.recordSuccess(circuit);
    const fields: Record<string, unknown> = {};
    for (const [name, path] of Object.entries(config.mapping)) {
      const value = readPath(body, path);
      if (value !== undefined) fields[name] = value;
    }
    await this.store(tenantId, account.id, key, fields);
    this.options.metrics.requests.inc({ kind: 'enrich', outcome: 'ok' });
    return { kind: 'enriched', accountId: account.id, fields };
  }

  private failed(accountId: string, error: string): EnrichmentOutcome {
    this.options.metrics.requests.inc({ kind: 'enrich', outcome: error.slice(0, error.indexOf(':')) });
    return { kind: 'failed', accountId, error };
  }

  private async account(tenantId: string): Promise<AccountRow | undefined> {
    const [row] = await this.options.dataSource.query<AccountRow[]>(
      `SELECT id, credentials, time_zone, quota_hourly, quota_daily, quota_weekly FROM source_accounts
        WHERE tenant_id = $1 AND kind = 'http-enrichment' AND status = 'active'
        ORDER BY created_at, id LIMIT 1`,
      [tenantId],
    );
    return row;
  }

  private async cached(
    tenantId: string,
    accountId: string,
    key: string,
  ): Promise<Record<string, unknown> | undefined> {
    const [row] = await this.options.dataSource.query<{ result: Record<string, unknown> }[]>(
      `SELECT result FROM enrichment_lookups
        WHERE tenant_id = $1 AND source_account_id = $2 AND lookup_key = $3 AND expires_at > now()`,
      [tenantId, accountId, key],
    );
    return row?.result;
  }

  private async store(
    tenantId: string,
    accountId: string,
    key: string,
    result: Record<string, unknown>,
  ): Promise<void> {
    await this.options.dataSource.query(
      `INSERT INTO enrichment_lookups (tenant_id, source_account_id, lookup_key, result, fetched_at, expires_at)
       VALUES ($1, $2, $3, $4, now(), now() + make_interval(secs => $5))
       ON CONFLICT (tenant_id, source_account_id, lookup_key) DO UPDATE
         SET result = EXCLUDED.result, fetched_at = EXCLUDED.fetched_at, expires_at = EXCLUDED.expires_at`,
      [tenantId, accountId, key, JSON.stringify(result), this.options.cacheTtlSeconds],
    );
  }
}

/** `email:<email>` or `domain:<domain>` per the account's lookup_by; undefined when the candidate has neither. */
function lookupKey(config: EnrichmentConfig, subject: EnrichmentSubject): string | undefined {
  const email = subject.email ? `email:${subject.email}` : undefined;
  const domain = subject.domain ? `domain:${subject.domain}` : undefined;
  if (config.lookup_by === 'email') return email;
  if (config.lookup_by === 'domain') return domain;
  return email ?? domain;
}
