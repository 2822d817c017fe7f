export {
  API_KEY_PATTERN,
  generateApiKey,
  hashApiKey,
  parseApiKey,
  type GeneratedApiKey,
} from './api-key-format';
export { ApiKeyAuthenticator, type AuthenticationResult } from './api-key-authenticator';
export { ApiKeysRepository, type ApiKeyCredential, type ApiKeyRecord } from './api-keys.repository';
export { ApiKeysService, normaliseScopes, revokedKeyMarker, type CreatedApiKey } from './api-keys.service';
export { LastAdminKeyError } from './errors';
export {
  API_KEY_SCOPES,
  hasScope,
  type ApiKeyScope,
  type Principal,
  type TenantPrincipal,
} from './principal';
export { TenantsModule } from './tenants.module';
export { TenantsRepository, type TenantRecord } from './tenants.repository';
export { TenantsService } from './tenants.service';
export { apiKeyView, createdApiKeyView, tenantCreatedView, tenantView } from './views';
