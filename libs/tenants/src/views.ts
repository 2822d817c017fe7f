import type { ApiKeyRecord } from './api-keys.repository';
import type { CreatedApiKey } from './api-keys.service';
import type { TenantRecord } from './tenants.repository';

/** A key as it is shown (snake_case; never its secret): by the API and the CLI alike. */
export function apiKeyView(k: ApiKeyRecord) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    created_at: k.createdAt.toISOString(),
    last_used_at: k.lastUsedAt?.toISOString() ?? null,
    revoked_at: k.revokedAt?.toISOString() ?? null,
  };
}

/** A key just created: the one time its whole secret is shown. */
export function createdApiKeyView(k: CreatedApiKey) {
  return { ...apiKeyView(k), key: k.key };
}

/** A tenant as it is shown. */
export function tenantView(tenant: TenantRecord) {
  return {
    id: tenant.id,
    name: tenant.name,
    time_zone: tenant.timeZone,
    delivery_weight: tenant.deliveryWeight,
    created_at: tenant.createdAt.toISOString(),
  };
}

/** A tenant just created, with its first key. */
export function tenantCreatedView(tenant: TenantRecord, key: CreatedApiKey) {
  return { ...tenantView(tenant), api_key: createdApiKeyView(key) };
}
