import { client } from '@herald/api-client';

/**
 * The generated client's shared instance, set up for the browser: same origin, the session
 * cookie on every call, and the session's CSRF token on every write. The token lives in this
 * module only (memory): a reload fetches it again from GET /v1/sessions/current.
 */
let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

client.setConfig({ baseUrl: window.location.origin, credentials: 'include' });
client.interceptors.request.use((request) => {
  if (csrfToken && !SAFE_METHODS.has(request.method)) request.headers.set('X-CSRF-Token', csrfToken);
  return request;
});

export { client };
