import {
  ApiProblem,
  sessionsCreate,
  sessionsCurrent,
  sessionsDelete,
  unwrap,
  type ConsoleSession as ApiSession,
} from '@herald/api-client';
import { client, setCsrfToken } from './client';

/** The cookie's session; `time_zone` (the tenant's zone), when the api reports it, is where times are shown. */
export type ConsoleSession = ApiSession & { time_zone?: string | null };

/** Exchanges a pasted key for the session cookie; the key is sent once and kept nowhere. */
export async function signIn(key: string): Promise<ConsoleSession> {
  const session: ConsoleSession = await unwrap(sessionsCreate({ client, body: { key } }));
  setCsrfToken(session.csrf_token);
  return session;
}

/** The cookie's session, or null when there is none (401). */
export async function currentSession(): Promise<ConsoleSession | null> {
  try {
    const session: ConsoleSession = await unwrap(sessionsCurrent({ client }));
    setCsrfToken(session.csrf_token);
    return session;
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401) return null;
    throw error;
  }
}

export async function signOut(): Promise<void> {
  await unwrap(sessionsDelete({ client }));
  setCsrfToken(null);
}
