import type { AccountQuotas, SealedAccountFields } from '@herald/channels';
import { z } from 'zod';

export const SOURCE_KINDS = ['http-directory', 'profile-visit', 'csv', 'http-enrichment'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];
export const SOURCE_ACCOUNT_STATUSES = ['active', 'paused', 'disabled'] as const;
export type SourceAccountStatus = (typeof SOURCE_ACCOUNT_STATUSES)[number];

/** An absolute http(s) URL without userinfo (credentials belong in the sealed fields). */
export const httpUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password;
    } catch {
      return false;
    }
  }, 'must be an http(s) URL without credentials');

const headerName = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name (letters, digits, -)');
/** A dotted path into the provider's JSON (`data.items`, `links.next`). */
const jsonPath = z
  .string()
  .regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'must be a dotted JSON path like data.items');
const queryParam = z.string().regex(/^[A-Za-z0-9_.[\]-]{1,64}$/, 'must be a query parameter name');
const secret = z.string().min(1).max(4096);
const timeoutMs = z.number().int().min(100).max(60_000);

/** What a candidate is made of: each connector maps its provider's fields onto these. */
export const CANDIDATE_FIELDS = [
  'name',
  'website',
  'email',
  'phone',
  'address',
  'category',
  'external_id',
  'profile_url',
] as const;
export type CandidateField = (typeof CANDIDATE_FIELDS)[number];

const fieldMapping = z
  .partialRecord(z.enum(CANDIDATE_FIELDS), jsonPath)
  .refine((m) => m.external_id !== undefined || m.profile_url !== undefined || m.website !== undefined, {
    message: 'must map external_id, profile_url or website (a candidate needs an identity)',
  });

/** A paged JSON search API. `api_key` is sealed; sent as `<auth_header>: <auth_scheme> <api_key>`. */
export const httpDirectoryConfig = z.strictObject({
  base_url: httpUrl,
  api_key: secret.optional(),
  auth_header: headerName.default('authorization'),
  auth_scheme: z.string().max(32).regex(/^\S*$/, 'must be one word').default('Bearer'),
  pagination: z.enum(['cursor', 'page'], 'must be cursor or page').default('cursor'),
  /** Criteria key → query parameter (criteria keys not named here are sent under their own name). */
  query_params: z.record(z.string().max(64), queryParam).default({}),
  page_size: z.number().int().min(1).max(500).default(50),
  page_size_param: queryParam.default('limit'),
  cursor_param: queryParam.default('cursor'),
  page_param: queryParam.default('page'),
  results_path: jsonPath.default('results'),
  /** Cursor pagination: where the next cursor is (null or absent: the search is exhausted). */
  next_cursor_path: jsonPath.default('next_cursor'),
  mapping: fieldMapping.default({
    name: 'name',
    website: 'website',
    email: 'email',
    phone: 'phone',
    address: 'address',
    category: 'category',
    external_id: 'id',
    profile_url: 'profile_url',
  }),
  timeout_ms: timeoutMs.default(10_000),
  max_bytes: z.number().int().min(1024).max(20_000_000).default(2_000_000),
});
export type HttpDirectoryConfig = z.output<typeof httpDirectoryConfig>;

/** Visits profile pages. `cookie` (a logged-in session, if the site needs one) is sealed. */
export const profileVisitConfig = z.strictObject({
  cookie: secret.optional(),
  user_agent: z.string().min(1).max(256).optional(),
  timeout_ms: timeoutMs.default(10_000),
  max_bytes: z.number().int().min(1024).max(10_000_000).default(1_000_000),
  max_redirects: z.number().int().min(0).max(10).default(3),
});
export type ProfileVisitConfig = z.output<typeof profileVisitConfig>;

/** An uploaded list: its rows come with the job's criteria; the account only names the columns. */
export const csvConfig = z.strictObject({
  delimiter: z.enum([',', ';', '\t', '|'], 'must be one of , ; tab |').default(','),
  /** Candidate field → CSV column header (default: the field's own name). */
  columns: z.partialRecord(z.enum(CANDIDATE_FIELDS), z.string().min(1).max(100)).default({}),
});
export type CsvConfig = z.output<typeof csvConfig>;

/**
 * An enrichment provider's JSON API, used by qualifying: `GET <base_url>?<param>=<key>` with
 * `<auth_header>: <auth_scheme> <api_key>` (an empty scheme sends the key alone, as `x-api-key`
 * providers want). `lookup` picks the key: the candidate's domain, its email, or its email when
 * it has one and else its domain. The key goes in `lookup_param` when set, else in a parameter
 * named after its kind (`domain` or `email`). `mapping` names the facts kept from the answer
 * (`{ "employees": "company.employees" }`, read as `enrichment.<name>` by scoring rules).
 * Cache TTL and timeout default to the fleet's SOURCING_ENRICHMENT_* settings.
 */
export const httpEnrichmentConfig = z.strictObject({
  base_url: httpUrl,
  api_key: secret.optional(),
  auth_header: headerName.default('authorization'),
  auth_scheme: z.string().max(32).regex(/^\S*$/, 'must be one word').default('Bearer'),
  lookup: z
    .enum(['domain', 'email', 'email_then_domain'], 'must be domain, email or email_then_domain')
    .default('email_then_domain'),
  lookup_param: queryParam.optional(),
  mapping: z
    .record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'names must be snake_case'), jsonPath)
    .refine((m) => Object.keys(m).length >= 1 && Object.keys(m).length <= 50, 'must map 1 to 50 fields'),
  cache_ttl_seconds: z
    .number()
    .int()
    .min(0)
    .max(30 * 86_400)
    .optional(),
  timeout_ms: timeoutMs.optional(),
});
export type HttpEnrichmentConfig = z.output<typeof httpEnrichmentConfig>;

export const SOURCE_CONFIG_SCHEMAS = {
  'http-directory': httpDirectoryConfig,
  'profile-visit': profileVisitConfig,
  csv: csvConfig,
  'http-enrichment': httpEnrichmentConfig,
} as const satisfies Record<SourceKind, z.ZodType>;

export interface SourceConfigs {
  'http-directory': HttpDirectoryConfig;
  'profile-visit': ProfileVisitConfig;
  csv: CsvConfig;
  'http-enrichment': HttpEnrichmentConfig;
}

/** Config fields sealed and never returned or logged. */
export const SECRET_SOURCE_FIELDS: Record<SourceKind, readonly string[]> = {
  'http-directory': ['api_key'],
  'profile-visit': ['cookie'],
  csv: [],
  'http-enrichment': ['api_key'],
};

export type SourceQuotas = AccountQuotas;

/** A source account without its secrets (`settings` is its config without them): safe to return and log. */
export interface SourceAccountRecord extends SealedAccountFields {
  kind: SourceKind;
}

/** An account with its unsealed config, for a connector (never log or return `config`). */
export interface UnsealedSourceAccount<K extends SourceKind = SourceKind> extends SourceAccountRecord {
  kind: K;
  config: SourceConfigs[K];
}
