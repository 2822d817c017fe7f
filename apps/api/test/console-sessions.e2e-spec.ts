import {
  createTestDatabase,
  HeraldProcess,
  TEST_ADMIN_KEY,
  testEnvironment,
  testRedisPrefix,
  testRedisUrl,
  type TestDatabase,
} from '@herald/testing';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

jest.setTimeout(90_000);

const CLI = join(__dirname, '../../../dist/apps/cli/src/main.js');

/** The built CLI as an operator runs it. */
function herald(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

function sessionCookie(headers: Headers): string {
  const set = headers.getSetCookie().find((c) => c.startsWith('herald_session='));
  if (!set) throw new Error('no session cookie');
  return set.slice('herald_session='.length, set.indexOf(';'));
}

/** The api as a real process: console sign-in by key and by a CLI-minted link, and logs that never hold a key, a session or a link's token. */
describe('console sign-in against the api process', () => {
  let database: TestDatabase;
  let api: HeraldProcess;

  beforeAll(async () => {
    database = await createTestDatabase();
    api = await HeraldProcess.start(
      'api',
      testEnvironment({
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl(),
        QUEUE_PREFIX: testRedisPrefix(),
        READY_REQUIRE_WORKERS: 'false',
        LOG_LEVEL: 'debug',
      }),
    );
  });
  afterAll(async () => {
    await api?.stop();
    await database?.drop();
  });

  it('signs in with a key and with `herald sessions link`, and logs neither the key, the session nor the link', async () => {
    const created = await fetch(`${api.publicUrl}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Console e2e', time_zone: 'UTC' }),
    });
    const tenant = (await created.json()) as { id: string; api_key: { id: string; key: string } };

    const signIn = await fetch(`${api.publicUrl}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: tenant.api_key.key }),
    });
    expect(signIn.status).toBe(201);
    const cookie = sessionCookie(signIn.headers);
    const { csrf_token } = (await signIn.json()) as { csrf_token: string };
    const contact = await fetch(`${api.publicUrl}/v1/contacts`, {
      method: 'POST',
      headers: {
        cookie: `herald_session=${cookie}`,
        'x-csrf-token': csrf_token,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ email: 'ada@example.com' }),
    });
    expect(contact.status).toBe(201);
    const wrong = await fetch(`${api.publicUrl}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: `${tenant.api_key.key.slice(0, -4)}XXXX` }),
    });
    expect(wrong.status).toBe(401);

    const cli = await herald(['sessions', 'link', '--tenant', tenant.id, '--json'], {
      DATABASE_URL: database.url,
      HERALD_API_URL: api.publicUrl,
    });
    expect(cli.code).toBe(0);
    const link = JSON.parse(cli.stdout) as { url: string; key_id: string };
    expect(link.key_id).toBe(tenant.api_key.id);
    expect(link.url).toMatch(new RegExp(`^${api.publicUrl}/console/sign-in\\?token=hl_`));
    const used = await fetch(link.url, { redirect: 'manual' });
    expect(used.status).toBe(303);
    expect(used.headers.get('location')).toBe('/console/');
    const linked = sessionCookie(used.headers);
    const current = await fetch(`${api.publicUrl}/v1/sessions/current`, {
      headers: { cookie: `herald_session=${linked}` },
    });
    expect(((await current.json()) as { tenant_id: string }).tenant_id).toBe(tenant.id);
    expect((await fetch(link.url, { redirect: 'manual' })).status).toBe(401);

    const unknown = await herald(['sessions', 'link', '--tenant', '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f'], {
      DATABASE_URL: database.url,
    });
    expect(unknown.code).toBe(3);

    await api.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('GET /v1/sessions/current'));
    const logs = JSON.stringify(api.lines) + api.stderr.join('\n');
    expect(logs).toContain('POST /v1/sessions 201');
    expect(logs).toContain('/console/sign-in?token=[redacted]');
    const linkToken = new URL(link.url).searchParams.get('token')!;
    for (const secret of [tenant.api_key.key, cookie, linked, csrf_token, TEST_ADMIN_KEY, linkToken]) {
      expect(logs).not.toContain(secret);
    }
  });
});
