import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestApi } from '../../../test/support/api-app';
import { rawRequest } from '../../../test/support/raw-http';

type Problem = { type: string; status: number; detail: string };

const INDEX =
  '<!doctype html><title>Herald console</title><script type="module" src="/console/assets/app-3f9a1c.js"></script>';
const SCRIPT = 'console.log("herald console");';

describe('the console served at /console', () => {
  let api: TestApi;
  let dir: string;

  const get = (path: string) => fetch(api.url + path, { redirect: 'manual' });

  beforeAll(async () => {
    // A build as Vite writes it: index.html and content-hashed files under assets/.
    dir = mkdtempSync(join(tmpdir(), 'herald-console-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'app-3f9a1c.js'), SCRIPT);
    writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    api = await TestApi.start({ CONSOLE_DIST_DIR: dir }, { opsListener: true });
  });

  afterAll(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('redirects / to /console/ (and /console to /console/)', async () => {
    const root = await get('/');
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/');
    const bare = await get('/console');
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/console/');
  });

  it('serves index.html uncached, with a CSP that allows only the console’s own origin', async () => {
    const res = await get('/console/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toBe(INDEX);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves hashed assets with a long, immutable cache', async () => {
    const res = await get('/console/assets/app-3f9a1c.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await res.text()).toBe(SCRIPT);
    const icon = await get('/console/favicon.svg');
    expect(icon.status).toBe(200);
    expect(icon.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers any other console path with index.html (the SPA routes it), but a missing file with 404', async () => {
    for (const path of [
      '/console/campaigns',
      '/console/runs/0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f',
      '/console/contacts?q=ada',
    ]) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toBe(INDEX);
    }
    for (const path of ['/console/assets/gone-123.js', '/console/robots.txt']) {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
  });

  it('leaves other methods, other spellings and the sign-in route to the API’s routing', async () => {
    const post = await fetch(`${api.url}/console/campaigns`, { method: 'POST' });
    expect(post.status).toBe(404);
    expect(((await post.json()) as Problem).detail).toMatch(/^No route/);
    for (const path of [
      '/console/./campaigns',
      '/console//campaigns',
      '/console/%61ssets/app-3f9a1c.js',
      '/CONSOLE/',
    ]) {
      const res = await rawRequest(api.url, 'GET', path);
      expect(res.status).toBe(404);
      expect(res.body?.detail).toMatch(/^No route/);
    }
    const traversal = await rawRequest(api.url, 'GET', '/console/../../../etc/passwd');
    expect(traversal.status).toBe(404);
    const signIn = await get('/console/sign-in');
    expect(signIn.status).toBe(400);
    for (const path of ['/console/Sign-in', '/console/sign-in/']) {
      const res = await rawRequest(api.url, 'GET', path);
      expect(res.status).toBe(404);
      expect(res.body?.detail).toMatch(/^No route/);
    }
  });

  it('is not served on the ops listener', async () => {
    const res = await fetch(`${api.opsUrl}/console/`, { redirect: 'manual' });
    expect(res.status).toBe(404);
    const root = await fetch(`${api.opsUrl}/`, { redirect: 'manual' });
    expect(root.status).toBe(404);
  });

  it('answers 503 problem+json saying how to build when the build is missing, and keeps serving the API', async () => {
    const bare = await TestApi.start(
      { CONSOLE_DIST_DIR: join(dir, 'not-built') },
      { database: api.database },
    );
    try {
      for (const path of ['/console/', '/console/campaigns', '/console/assets/app-3f9a1c.js']) {
        const res = await fetch(bare.url + path);
        expect(res.status).toBe(503);
        expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
        expect(((await res.json()) as Problem).detail).toMatch(/npm run build/);
      }
      expect((await fetch(bare.url + '/', { redirect: 'manual' })).status).toBe(302);
      expect((await bare.request('GET', '/v1/admin/queues')).status).toBe(200);
    } finally {
      await bare.close();
    }
  });
});
