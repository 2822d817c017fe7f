import { TEST_ADMIN_KEY } from '@herald/testing';
import { TestApi } from '../../../test/support/api-app';

type Session = {
  tenant_id: string | null;
  time_zone: string | null;
  scopes: string[];
  expires_at: string;
  csrf_token: string;
};
type Problem = { type: string; status: number; detail: string; errors: { field: string }[] };

/** The `herald_session` value a response sets. */
function sessionCookie(headers: Headers): string {
  const set = headers.getSetCookie().find((c) => c.startsWith('herald_session='));
  if (!set) throw new Error(`no session cookie in ${JSON.stringify(headers.getSetCookie())}`);
  return set.slice('herald_session='.length, set.indexOf(';'));
}

describe('console sessions: a key exchanged for a cookie', () => {
  let api: TestApi;
  let tenant: { id: string; key: string; keyId: string };
  let other: { id: string; key: string };

  /** A request made as a browser would: the cookie, no key; the CSRF token when given. */
  const withCookie = <T = unknown>(
    method: string,
    path: string,
    cookie: string,
    options: { csrf?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) =>
    api.request<T>(method, path, {
      key: null,
      body: options.body,
      headers: {
        cookie: `theme=dark; herald_session=${cookie}`,
        ...(options.csrf !== undefined ? { 'x-csrf-token': options.csrf } : {}),
        ...options.headers,
      },
    });

  const signIn = async (key: string) => {
    const res = await api.request<Session>('POST', '/v1/sessions', { key: null, body: { key } });
    expect(res.status).toBe(201);
    return { cookie: sessionCookie(res.headers), session: res.body, res };
  };

  const newKey = async (scopes: string[]) => {
    const res = await api.request<{ id: string; key: string }>('POST', '/v1/api-keys', {
      key: tenant.key,
      body: { name: `console ${scopes.join(',')}`, scopes },
    });
    expect(res.status).toBe(201);
    return res.body;
  };

  beforeAll(async () => {
    api = await TestApi.start();
    tenant = await api.createTenant('Console A');
    other = await api.createTenant('Console B');
  });

  afterAll(async () => {
    await api.close();
  });

  it('signs in with a tenant key: 201, the session body, an HttpOnly SameSite=Strict cookie (no Secure over dev http)', async () => {
    const { res, cookie, session } = await signIn(tenant.key);
    expect(session).toEqual({
      tenant_id: tenant.id,
      time_zone: 'Europe/Paris', // the tenant's: the console shows times in it
      scopes: ['read', 'write', 'admin'],
      expires_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as string,
      csrf_token: expect.any(String) as string,
    });
    const expires = Date.parse(session.expires_at) - Date.now();
    expect(expires).toBeGreaterThan(7.9 * 3600_000); // the 8 h idle timeout, under the 24 h absolute end
    expect(expires).toBeLessThanOrEqual(8 * 3600_000);
    const set = res.headers.getSetCookie().find((c) => c.startsWith('herald_session='))!;
    expect(set).toMatch(/; HttpOnly/);
    expect(set).toMatch(/; SameSite=Strict/);
    expect(set).toMatch(/; Path=\//);
    expect(set).toMatch(/; Max-Age=86400/);
    expect(set).not.toMatch(/Secure/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    // The key is in neither the answer nor the cookie; the database keeps only hashes.
    expect(res.text).not.toContain(tenant.key);
    expect(cookie).not.toContain(tenant.key);
    const rows = await api.query<{ row: string }>(`SELECT s::text AS row FROM console_sessions s`);
    expect(rows.length).toBeGreaterThan(0);
    for (const { row } of rows) {
      expect(row).not.toContain(cookie);
      expect(row).not.toContain(session.csrf_token);
      expect(row).not.toContain(tenant.key);
    }
  });

  it('acts with the key’s scopes: reads with the cookie, writes only with the X-CSRF-Token', async () => {
    const { cookie, session } = await signIn(tenant.key);
    const list = await withCookie<{ data: unknown[] }>('GET', '/v1/contacts', cookie);
    expect(list.status).toBe(200);

    const body = { email: 'csrf@example.com', first_name: 'Cee' };
    const missing = await withCookie<Problem>('POST', '/v1/contacts', cookie, { body });
    expect(missing.status).toBe(403);
    expect(missing.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(missing.body.errors).toEqual([expect.objectContaining({ field: 'X-CSRF-Token' })]);
    const wrong = await withCookie<Problem>('POST', '/v1/contacts', cookie, { body, csrf: 'x'.repeat(43) });
    expect(wrong.status).toBe(403);
    expect(await api.query(`SELECT 1 FROM contacts WHERE email = 'csrf@example.com'`)).toHaveLength(0);

    const created = await withCookie<{ id: string }>('POST', '/v1/contacts', cookie, {
      body,
      csrf: session.csrf_token,
    });
    expect(created.status).toBe(201);
    // Another session's token does not open this one.
    const second = await signIn(tenant.key);
    expect(second.session.csrf_token).not.toBe(session.csrf_token);
    const crossed = await withCookie('PATCH', `/v1/contacts/${created.body.id}`, cookie, {
      body: { first_name: 'X' },
      csrf: second.session.csrf_token,
    });
    expect(crossed.status).toBe(403);
  });

  it('gives a read key’s session read scope only', async () => {
    const reader = await newKey(['read']);
    const { cookie, session } = await signIn(reader.key);
    expect(session.scopes).toEqual(['read']);
    expect((await withCookie('GET', '/v1/contacts', cookie)).status).toBe(200);
    const write = await withCookie<Problem>('POST', '/v1/contacts', cookie, {
      body: { email: 'reader@example.com' },
      csrf: session.csrf_token,
    });
    expect(write.status).toBe(403);
    expect(write.body.detail).toMatch(/"write" scope/);
  });

  it('GET /v1/sessions/current answers the session (the same CSRF token) or 401', async () => {
    const { cookie, session } = await signIn(tenant.key);
    const current = await withCookie<Session>('GET', '/v1/sessions/current', cookie);
    expect(current.status).toBe(200);
    expect(current.body).toEqual({ ...session, expires_at: expect.any(String) as string });
    expect(current.text).not.toContain(cookie);
    // Made with a key, not a session: there is no session to describe.
    expect((await api.request('GET', '/v1/sessions/current', { key: tenant.key })).status).toBe(401);
    expect((await api.request('GET', '/v1/sessions/current', { key: null })).status).toBe(401);
    const bogus = await withCookie<Problem>('GET', '/v1/sessions/current', 'hs_' + 'A'.repeat(43));
    expect(bogus.status).toBe(401);
    expect(bogus.body.detail).toMatch(/sign in again/);
  });

  it('refuses a wrong key with 401 problem+json and counts it like a wrong key in a header', async () => {
    const res = await api.request<Problem>('POST', '/v1/sessions', {
      key: null,
      body: { key: 'hk_AAAAAAAAAAAA_not-a-real-key-for-the-example-only' },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.headers.getSetCookie()).toEqual([]);
    const junk = await api.request<Problem>('POST', '/v1/sessions', { key: null, body: { key: 'letmein' } });
    expect(junk.status).toBe(401);
    expect(junk.text).not.toContain('letmein');
    const empty = await api.request<Problem>('POST', '/v1/sessions', { key: null, body: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.errors).toEqual([expect.objectContaining({ field: 'key' })]);
  });

  it('ends every session of a key the moment the key is revoked', async () => {
    const doomed = await newKey(['write']);
    const { cookie } = await signIn(doomed.key);
    expect((await withCookie('GET', '/v1/contacts', cookie)).status).toBe(200);
    const revoked = await api.request('DELETE', `/v1/api-keys/${doomed.id}`, { key: tenant.key });
    expect(revoked.status).toBe(204);
    const after = await withCookie<Problem>('GET', '/v1/contacts', cookie);
    expect(after.status).toBe(401);
    // And a revoked key cannot sign in again.
    const again = await api.request<Problem>('POST', '/v1/sessions', {
      key: null,
      body: { key: doomed.key },
    });
    expect(again.status).toBe(401);
    expect(again.body.detail).toMatch(/revoked/);
  });

  it('signs out with DELETE /v1/sessions/current (CSRF token required): the cookie is dead at once', async () => {
    const { cookie, session } = await signIn(tenant.key);
    expect((await withCookie('DELETE', '/v1/sessions/current', cookie)).status).toBe(403);
    const out = await withCookie('DELETE', '/v1/sessions/current', cookie, { csrf: session.csrf_token });
    expect(out.status).toBe(204);
    const cleared = out.headers.getSetCookie().find((c) => c.startsWith('herald_session='));
    expect(cleared).toMatch(/herald_session=;/);
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect((await withCookie('GET', '/v1/contacts', cookie)).status).toBe(401);
  });

  it('expires a session idle past SESSION_IDLE_TIMEOUT_SECONDS, and any session past its absolute end', async () => {
    const idle = await signIn(tenant.key);
    const old = await signIn(tenant.key);
    expect((await withCookie('GET', '/v1/contacts', idle.cookie)).status).toBe(200);
    await api.query(
      `UPDATE console_sessions SET last_seen_at = now() - interval '8 hours 1 minute' WHERE csrf_token_hash = sha256($1::bytea)`,
      [Buffer.from(idle.session.csrf_token)],
    );
    await api.query(
      `UPDATE console_sessions SET expires_at = now() - interval '1 second' WHERE csrf_token_hash = sha256($1::bytea)`,
      [Buffer.from(old.session.csrf_token)],
    );
    expect((await withCookie('GET', '/v1/contacts', idle.cookie)).status).toBe(401);
    expect((await withCookie('GET', '/v1/contacts', old.cookie)).status).toBe(401);
  });

  it('keeps tenants apart through the cookie as through the key', async () => {
    const theirs = await api.request<{ id: string }>('POST', '/v1/contacts', {
      key: other.key,
      body: { email: 'theirs@example.com' },
    });
    expect(theirs.status).toBe(201);
    const { cookie, session } = await signIn(tenant.key);
    const read = await withCookie<Problem>('GET', `/v1/contacts/${theirs.body.id}`, cookie);
    expect(read.status).toBe(404);
    const list = await withCookie<{ data: { email: string }[] }>('GET', '/v1/contacts?limit=200', cookie);
    expect(list.body.data.map((c) => c.email)).not.toContain('theirs@example.com');
    const archive = await withCookie('DELETE', `/v1/contacts/${theirs.body.id}`, cookie, {
      csrf: session.csrf_token,
    });
    expect(archive.status).toBe(404);
    expect((await api.request('GET', `/v1/contacts/${theirs.body.id}`, { key: other.key })).status).toBe(200);
  });

  it('lets a key in a header win over a cookie', async () => {
    const { cookie } = await signIn(tenant.key);
    const res = await api.request('GET', '/v1/contacts', {
      key: other.key,
      headers: { cookie: `herald_session=${cookie}` },
    });
    expect(res.status).toBe(200);
    const bad = await api.request('GET', '/v1/contacts', {
      key: 'hk_wrong',
      headers: { cookie: `herald_session=${cookie}` },
    });
    expect(bad.status).toBe(401);
  });

  it('gives the admin key the platform view: no tenant, platform routes only', async () => {
    const { cookie, session } = await signIn(TEST_ADMIN_KEY);
    expect(session).toEqual(expect.objectContaining({ tenant_id: null, scopes: [] }));
    expect((await withCookie('GET', '/v1/admin/queues', cookie)).status).toBe(200);
    expect((await withCookie('GET', '/v1/contacts', cookie)).status).toBe(403);
    const created = await withCookie('POST', '/v1/tenants', cookie, {
      body: { name: 'Made in the console', time_zone: 'UTC' },
      csrf: session.csrf_token,
    });
    expect(created.status).toBe(201);
  });

  it('one-time sign-in link: minted with a key, used once, sets the cookie and goes to /console/', async () => {
    const minted = await api.request<{ url: string; expires_at: string }>('POST', '/v1/sessions/links', {
      key: tenant.key,
    });
    expect(minted.status).toBe(201);
    const url = new URL(minted.body.url);
    expect(url.pathname).toBe('/console/sign-in');
    const token = url.searchParams.get('token')!;
    expect(Date.parse(minted.body.expires_at) - Date.now()).toBeLessThanOrEqual(900_000);
    const links = await api.query<{ row: string }>(`SELECT l::text AS row FROM console_sign_in_links l`);
    for (const { row } of links) expect(row).not.toContain(token);

    const first = await fetch(`${api.url}${url.pathname}${url.search}`, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/console/');
    const cookie = sessionCookie(first.headers);
    const current = await withCookie<Session>('GET', '/v1/sessions/current', cookie);
    expect(current.body).toEqual(
      expect.objectContaining({ tenant_id: tenant.id, scopes: ['read', 'write', 'admin'] }),
    );

    const second = await fetch(`${api.url}${url.pathname}${url.search}`, { redirect: 'manual' });
    expect(second.status).toBe(401);
    expect(second.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(second.headers.getSetCookie()).toEqual([]);
  });

  it('refuses an expired link, a link whose key was revoked, and a link minted by a session', async () => {
    const mint = async (key: string) => {
      const res = await api.request<{ url: string }>('POST', '/v1/sessions/links', { key });
      expect(res.status).toBe(201);
      return new URL(res.body.url);
    };
    const expired = await mint(tenant.key);
    await api.query(
      `UPDATE console_sign_in_links SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`,
    );
    expect((await fetch(api.url + expired.pathname + expired.search, { redirect: 'manual' })).status).toBe(
      401,
    );

    const admin2 = await newKey(['admin']);
    const orphan = await mint(admin2.key);
    expect((await api.request('DELETE', `/v1/api-keys/${admin2.id}`, { key: tenant.key })).status).toBe(204);
    expect((await fetch(api.url + orphan.pathname + orphan.search, { redirect: 'manual' })).status).toBe(401);

    const { cookie, session } = await signIn(tenant.key);
    const bySession = await withCookie<Problem>('POST', '/v1/sessions/links', cookie, {
      csrf: session.csrf_token,
    });
    expect(bySession.status).toBe(403);
    expect(
      (await api.request('POST', '/v1/sessions/links', { key: (await newKey(['write'])).key })).status,
    ).toBe(403);
    const missing = await api.request<Problem>('GET', '/console/sign-in', { key: null });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([expect.objectContaining({ field: 'token' })]);
  });

  it('mints platform links with the admin key, and a changed HERALD_ADMIN_KEY ends platform sessions', async () => {
    const minted = await api.request<{ url: string }>('POST', '/v1/sessions/links');
    expect(minted.status).toBe(201);
    const url = new URL(minted.body.url);
    const used = await fetch(api.url + url.pathname + url.search, { redirect: 'manual' });
    expect(used.status).toBe(303);
    const cookie = sessionCookie(used.headers);
    const current = await withCookie<Session>('GET', '/v1/sessions/current', cookie);
    expect(current.body).toEqual(expect.objectContaining({ tenant_id: null, scopes: [] }));

    const rotated = await TestApi.start(
      { HERALD_ADMIN_KEY: `rotated-${TEST_ADMIN_KEY}` },
      { database: api.database },
    );
    try {
      const refused = await rotated.request('GET', '/v1/admin/queues', {
        key: null,
        headers: { cookie: `herald_session=${cookie}` },
      });
      expect(refused.status).toBe(401);
    } finally {
      await rotated.close();
    }
    expect((await withCookie('GET', '/v1/admin/queues', cookie)).status).toBe(200);
  });

  it('sets Secure on the cookie when SESSION_COOKIE_SECURE=true', async () => {
    const secure = await TestApi.start({ SESSION_COOKIE_SECURE: 'true' }, { database: api.database });
    try {
      const res = await secure.request('POST', '/v1/sessions', { key: null, body: { key: tenant.key } });
      expect(res.status).toBe(201);
      const set = res.headers.getSetCookie().find((c) => c.startsWith('herald_session='))!;
      expect(set).toMatch(/; Secure/);
      expect(set).toMatch(/; HttpOnly/);
    } finally {
      await secure.close();
    }
  });

  it('applies the failed-authentication lockout to sign-in', async () => {
    const strict = await TestApi.start(
      { AUTH_FAILURE_LIMIT_PER_ADDRESS: '3', AUTH_FAILURE_WINDOW_MS: '60000' },
      { database: api.database },
    );
    try {
      const before = await strict.request('POST', '/v1/sessions', { key: null, body: { key: tenant.key } });
      expect(before.status).toBe(201);
      const cookie = sessionCookie(before.headers);
      for (let i = 0; i < 3; i++) {
        const res = await strict.request('POST', '/v1/sessions', { key: null, body: { key: `wrong-${i}` } });
        expect(res.status).toBe(401);
      }
      // Locked out: even the right key is refused, and so is a session cookie from this address.
      const locked = await strict.request<Problem>('POST', '/v1/sessions', {
        key: null,
        body: { key: tenant.key },
      });
      expect(locked.status).toBe(429);
      expect(locked.headers.get('retry-after')).toMatch(/^\d+$/);
      const withSession = await strict.request('GET', '/v1/contacts', {
        key: null,
        headers: { cookie: `herald_session=${cookie}` },
      });
      expect(withSession.status).toBe(429);
    } finally {
      await strict.close();
    }
  });
});
