import type { OutboundGuard } from '@herald/channels';
import type { DataSource } from 'typeorm';
import type { HttpEnrichmentConfig, UnsealedSourceAccount } from '../../accounts/source-account';
import type { SourceAccountsRepository } from '../../accounts/source-accounts.repository';
import type { SourceQuota } from '../../accounts/source-quota';
import { FetchError, FetchSession } from '../assessment/page-fetcher';
import type { FetchSlots } from '../fetch-slots';
import type { QualifyMetrics } from '../qualify-metrics';
import { readPath } from '../scoring/score';

export interface EnricherOptions {
  readonly dataSource: DataSource;
  /** The one reader of source accounts: its schema (httpEnrichmentConfig) is the config's only one. */
  readonly accounts: SourceAccountsRepository;
  /** The account's quota and fleet-wide breaker, shared with everything else the account does. */
  readonly quota: SourceQuota;
  readonly guard: OutboundGuard;
  /** The worker's open-request bound, shared with assessment. */
  readonly slots: FetchSlots;
  readonly metrics: QualifyMetrics;
  /** Fleet defaults for an account that sets no cache_ttl_seconds / timeout_ms. */
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

type EnrichmentAccount = UnsealedSourceAccount<'http-enrichment'>;

/**
 * Enriches a candidate through the tenant's http-enrichment source account (the oldest active
 * one; none: skipped). The answer, found or not, is cached per tenant, account and lookup key
 * for a TTL. A lookup spends one unit of the account's quota under a key derived from the
 * candidate, so a repeated batch replays its reservation instead of spending twice; the
 * account's breaker (fleet-wide) stops calls to a failing provider. Any failure is returned,
 * never thrown: it marks the candidate, never fails the run.
 */
export class Enricher {
  /** Kept alive across lookups: a provider answers many, on the same few connections. */
  private readonly session: FetchSession;

  constructor(private readonly options: EnricherOptions) {
    this.session = new FetchSession(options.guard, options.timeoutMs);
  }

  async enrich(tenantId: string, subject: EnrichmentSubject): Promise<EnrichmentOutcome> {
    return (await this.enrichMany(tenantId, [subject])).get(subject.candidateId)!;
  }

  /**
   * Enriches a batch's candidates: the account read and unsealed once, the cached answers in
   * one read, each key not cached looked up once (side by side, within the fetch slots), the
   * new answers stored in one write. Keyed by candidate id.
   */
  async enrichMany(
    tenantId: string,
    subjects: readonly EnrichmentSubject[],
  ): Promise<Map<string, EnrichmentOutcome>> {
    const outcomes = new Map<string, EnrichmentOutcome>();
    const every = (outcome: () => EnrichmentOutcome) => {
      for (const s of subjects) outcomes.set(s.candidateId, outcome());
      return outcomes;
    };
    const accountId = await this.activeAccountId(tenantId);
    if (!accountId) return every(() => ({ kind: 'skipped', accountId: null }));
    let account: EnrichmentAccount | undefined;
    try {
      account = (await this.options.accounts.unsealed(tenantId, accountId)) as EnrichmentAccount | undefined;
    } catch {
      // A config sealed before its schema changed (or a corrupt blob): the account is unusable, the run goes on.
      account = undefined;
    }
    if (!account)
      return every(() => this.failed(accountId, 'invalid_config: the account config cannot be read'));
    const wanted = new Map<string, { lookup: Lookup; subjects: EnrichmentSubject[] }>();
    for (const subject of subjects) {
      const lookup = lookupOf(account.config, subject);
      if (!lookup) {
        outcomes.set(subject.candidateId, { kind: 'skipped', accountId });
        continue;
      }
      const key = `${lookup.kind}:${lookup.value}`;
      const entry = wanted.get(key) ?? { lookup, subjects: [] };
      entry.subjects.push(subject);
      wanted.set(key, entry);
    }
    const cached = await this.cached(tenantId, accountId, [...wanted.keys()]);
    const fresh: { key: string; result: Record<string, unknown> }[] = [];
    const usable = account;
    await Promise.all(
      [...wanted].map(async ([key, { lookup, subjects: same }]) => {
        const hit = cached.get(key);
        this.options.metrics.cache.inc({ cache: 'enrichment', result: hit ? 'hit' : 'miss' }, same.length);
        let outcome: EnrichmentOutcome;
        if (hit) {
          outcome = hit.not_found
            ? { kind: 'not_found', accountId }
            : { kind: 'enriched', accountId, fields: hit };
        } else {
          const answer = await this.lookUp(tenantId, usable, same[0]!.candidateId, lookup);
          outcome = answer.outcome;
          if (answer.cache) fresh.push({ key, result: answer.cache });
        }
        for (const s of same) outcomes.set(s.candidateId, outcome);
      }),
    );
    await this.store(tenantId, accountId, fresh, ttl(account.config, this.options));
    return outcomes;
  }

  /** Nest calls this on shutdown: the kept-alive connections go. */
  async onModuleDestroy(): Promise<void> {
    await this.session.close();
  }

  /** One lookup at the provider; what to cache comes back with the outcome (stored by the batch). */
  private async lookUp(
    tenantId: string,
    account: EnrichmentAccount,
    candidateId: string,
    lookup: Lookup,
  ): Promise<{ outcome: EnrichmentOutcome; cache?: Record<string, unknown> }> {
    const accountId = account.id;
    const config = account.config;
    const gate = await this.options.quota.acquire(account);
    if (!gate.allowed)
      return this.fail(accountId, 'breaker_open: the provider failed repeatedly; calls resume later');
    const reserved = await this.options.quota.reserve(account, `enrich:${tenantId}:${candidateId}`);
    if (!reserved.admitted)
      return this.fail(accountId, `quota_${reserved.reason}: the account's lookups are used up for now`);

    const url = new URL(config.base_url);
    url.searchParams.set(config.lookup_param ?? lookup.kind, lookup.value);
    let answer;
    try {
      answer = await this.options.slots.run(() =>
        this.session.fetch(url.toString(), {
          timeoutMs: config.timeout_ms ?? this.options.timeoutMs,
          maxBytes: 256 * 1024,
          maxRedirects: 0,
          userAgent: this.options.userAgent,
          headers: { ...authHeader(config), accept: 'application/json' },
        }),
      );
    } catch (error) {
      await this.options.quota.recordFailure(account);
      if (error instanceof FetchError && !['timeout', 'too_many_redirects'].includes(error.failure))
        await this.options.quota.refund(reserved.reservation);
      else await this.options.quota.commit(reserved.reservation);
      return this.fail(
        accountId,
        error instanceof FetchError ? `${error.failure}: ${error.message}` : 'error',
      );
    }
    await this.options.quota.commit(reserved.reservation);
    if (answer.status === 404) {
      await this.options.quota.recordSuccess(account);
      this.options.metrics.requests.inc({ kind: 'enrich', outcome: 'not_found' });
      return { outcome: { kind: 'not_found', accountId }, cache: { not_found: true } };
    }
    if (answer.status < 200 || answer.status >= 300) {
      await this.options.quota.recordFailure(account);
      return this.fail(accountId, `http_${answer.status}: the provider answered ${answer.status}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      await this.options.quota.recordFailure(account);
      return this.fail(accountId, 'bad_answer: the provider did not answer JSON');
    }
    await this.options.quota.recordSuccess(account);
    const fields: Record<string, unknown> = {};
    for (const [name, path] of Object.entries(config.mapping)) {
      const value = readPath(body, path);
      if (value !== undefined) fields[name] = value;
    }
    this.options.metrics.requests.inc({ kind: 'enrich', outcome: 'ok' });
    return { outcome: { kind: 'enriched', accountId, fields }, cache: fields };
  }

  private fail(accountId: string, error: string): { outcome: EnrichmentOutcome } {
    return { outcome: this.failed(accountId, error) };
  }

  private failed(accountId: string, error: string): EnrichmentOutcome {
    this.options.metrics.requests.inc({ kind: 'enrich', outcome: error.slice(0, error.indexOf(':')) });
    return { kind: 'failed', accountId, error };
  }

  /** The tenant's oldest active enrichment account (its id; unsealed through the repository). */
  private async activeAccountId(tenantId: string): Promise<string | undefined> {
    const [row] = await this.options.dataSource.query<{ id: string }[]>(
      `SELECT id FROM source_accounts
        WHERE tenant_id = $1 AND kind = 'http-enrichment' AND status = 'active'
        ORDER BY created_at, id LIMIT 1`,
      [tenantId],
    );
    return row?.id;
  }

  private async cached(
    tenantId: string,
    accountId: string,
    keys: readonly string[],
  ): Promise<Map<string, Record<string, unknown>>> {
    if (keys.length === 0) return new Map();
    const rows = await this.options.dataSource.query<
      { lookup_key: string; result: Record<string, unknown> }[]
    >(
      `SELECT lookup_key, result FROM enrichment_lookups
        WHERE tenant_id = $1 AND source_account_id = $2 AND lookup_key = ANY ($3::text[]) AND expires_at > now()`,
      [tenantId, accountId, keys],
    );
    return new Map(rows.map((r) => [r.lookup_key, r.result]));
  }

  private async store(
    tenantId: string,
    accountId: string,
    entries: readonly { key: string; result: Record<string, unknown> }[],
    ttlSeconds: number,
  ): Promise<void> {
    if (entries.length === 0) return;
    await this.options.dataSource.query(
      `INSERT INTO enrichment_lookups (tenant_id, source_account_id, lookup_key, result, fetched_at, expires_at)
       SELECT $1, $2, e.key, e.result, now(), now() + make_interval(secs => $4)
         FROM jsonb_to_recordset($3::jsonb) AS e (key text, result jsonb)
       ON CONFLICT (tenant_id, source_account_id, lookup_key) DO UPDATE
         SET result = EXCLUDED.result, fetched_at = EXCLUDED.fetched_at, expires_at = EXCLUDED.expires_at`,
      [tenantId, accountId, JSON.stringify(entries), ttlSeconds],
    );
  }
}

/** What to look up per the account's `lookup`; undefined when the candidate has nothing for it. */
interface Lookup {
  readonly kind: 'email' | 'domain';
  readonly value: string;
}

function lookupOf(config: HttpEnrichmentConfig, subject: EnrichmentSubject): Lookup | undefined {
  const email = subject.email ? { kind: 'email' as const, value: subject.email } : undefined;
  const domain = subject.domain ? { kind: 'domain' as const, value: subject.domain } : undefined;
  if (config.lookup === 'email') return email;
  if (config.lookup === 'domain') return domain;
  return email ?? domain;
}

function authHeader(config: HttpEnrichmentConfig): Record<string, string> {
  if (config.api_key === undefined) return {};
  return {
    [config.auth_header]: config.auth_scheme ? `${config.auth_scheme} ${config.api_key}` : config.api_key,
  };
}

function ttl(config: HttpEnrichmentConfig, options: EnricherOptions): number {
  return config.cache_ttl_seconds ?? options.cacheTtlSeconds;
}
