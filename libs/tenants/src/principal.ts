export const API_KEY_SCOPES = ['read', 'write', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** Who is calling: a tenant's API key, or the platform admin key (which has no tenant). */
export type Principal =
  | {
      kind: 'tenant';
      tenantId: string;
      /** The tenant's IANA time zone (birthday=today is "today" there). */
      tenantTimeZone: string;
      keyId: string;
      scopes: readonly ApiKeyScope[];
    }
  | { kind: 'platform' };

export type TenantPrincipal = Extract<Principal, { kind: 'tenant' }>;

const RANK: Record<ApiKeyScope, number> = { read: 1, write: 2, admin: 3 };

/** Scopes nest: admin can do what write can, write what read can. */
export function hasScope(scopes: readonly ApiKeyScope[], required: ApiKeyScope): boolean {
  return scopes.some((s) => RANK[s] >= RANK[required]);
}
