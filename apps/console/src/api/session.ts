import { ApiProblem, unwrap } from '@herald/api-client';
import { client, setCsrfToken } from './client';

/** What the api says a console session is (ConsoleSession in the OpenAPI document). */
export interface ConsoleSession {
  tenant_id: string | null;
  scopes: ('read' | 'write' | 'admin')[];
  expires_at: string;
  csrf_token: string;
  /** The tenant's IANA zone, when the api reports it; times are shown in it. */
  time_zone?: string | null;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** Exchanges a pasted key for the session cookie; the key is sent once and kept nowhere. */
export async function signIn(key: string): Promise<ConsoleSession> {
  const session = await unwrap(
    client.post<{ 201: ConsoleSession }>({ url: '/v1/sessions', body: { key }, headers: JSON_HEADERS }),
  );
  setCsrfToken(session.csrf_token);
  return session;
}

/** The cookie's session, or null when there is none (401). */
export async function currentSession(): Promise<ConsoleSession | null> {
  try {
    const session = await unwrap(client.get<{ 200: ConsoleSession }>({ url: '/v1/sessions/current' }));
    setCsrfToken(session.csrf_token);
    return session;
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401) return null;
    throw error;
  }
}

export async function signOut(): Promise<void> {
  await unwrap(client.delete<{ 204: void }>({ url: '/v1/sessions/current' }));
  setCsrfToken(null);
}
