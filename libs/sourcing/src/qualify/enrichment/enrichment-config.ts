import { z } from 'zod';

/**
 * An http-enrichment source account's config, sealed whole in source_accounts.credentials:
 * where the provider's JSON lookup is, its key and the header that carries it, what to look up
 * by, and which fields of the answer to keep (`{ "employees": "company.employees" }`).
 */
export const enrichmentConfigSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }),
  api_key: z.string().min(1, 'must not be empty').max(1000),
  auth_header: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a header name')
    .default('x-api-key'),
  lookup_by: z
    .enum(['domain', 'email', 'email_then_domain'], 'must be domain, email or email_then_domain')
    .default('email_then_domain'),
  mapping: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'names must be snake_case'),
      z.string().regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+){0,7}$/, 'must be a dotted path into the answer'),
    )
    .refine((m) => Object.keys(m).length >= 1 && Object.keys(m).length <= 50, 'must map 1 to 50 fields'),
});
export type EnrichmentConfig = z.output<typeof enrichmentConfigSchema>;
