import { RouteDeclarationCheck, type DeclaredRoute } from '@herald/telemetry';
import { TEST_ADMIN_KEY } from '@herald/testing';
import { TestApi } from '../../../test/support/api-app';
import { isNoRoute, rawRequest, spellingsOf } from '../../../test/support/raw-http';

/**
 * The public and the ops listener serve what each route's declared access allows, whatever the
 * spelling: ops routes (`/metrics`, `/internal/*`) never on the public port, API routes and the
 * mounts outside Nest (docs, Bull Board) never on the ops port, probes on both. The routes come
 * from the app's own declarations, so a new ops route is covered without editing this test.
 */
describe('listeners: each route on the port its access allows', () => {
  let api: TestApi;
  let routes: readonly DeclaredRoute[];
  const admin = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
  const concrete = (path: string) => path.replace(/:\w+/g, '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f');

  beforeAll(async () => {
    api = await TestApi.start({}, { opsListener: true });
    routes = api.app.get(RouteDeclarationCheck).routes();
  });
  afterAll(async () => {
    await api.close();
  });

  it('knows the ops and probe routes', () => {
    const byAccess = (access: string) =>
      routes
        .filter((r) => r.access === access)
        .map((r) => `${r.method} ${r.path}`)
        .sort();
    expect(byAccess('ops')).toEqual(['GET /internal/worker/heartbeat', 'GET /metrics']);
    expect(byAccess('probe')).toEqual(['GET /health', 'GET /ready']);
  });

  it('serves ops routes on the ops listener only, in no spelling on the public one', async () => {
    for (const route of routes.filter((r) => r.access === 'ops')) {
      const path = concrete(route.path);
      expect((await rawRequest(api.opsUrl!, route.method, path)).status).toBe(200);
      for (const [label, spelled] of [['canonical', path], ...spellingsOf(path)] as [string, string][]) {
        for (const headers of [{}, admin]) {
          const res = await rawRequest(api.url, route.method, spelled, headers);
          expect({ route: route.path, label, status: res.status }).toEqual({
            route: route.path,
            label,
            status: 404,
          });
        }
      }
    }
  });

  it('answers ops routes only in their own spelling on the ops listener', async () => {
    for (const route of routes.filter((r) => r.access === 'ops')) {
      for (const [label, spelled] of spellingsOf(concrete(route.path))) {
        const res = await rawRequest(api.opsUrl!, route.method, spelled);
        expect({ route: route.path, label, status: res.status }).toEqual({
          route: route.path,
          label,
          status: 404,
        });
      }
    }
  });

  it('serves probes on both listeners', async () => {
    for (const route of routes.filter((r) => r.access === 'probe')) {
      expect((await rawRequest(api.url, route.method, route.path)).status).toBe(200);
      expect((await rawRequest(api.opsUrl!, route.method, route.path)).status).toBe(200);
    }
  });

  it('serves no API route on the ops listener, with or without a key', async () => {
    const apiRoutes = routes.filter((r) => r.access !== 'ops' && r.access !== 'probe');
    expect(apiRoutes.length).toBeGreaterThan(30);
    for (const route of apiRoutes) {
      for (const headers of [{}, admin]) {
        const res = await rawRequest(api.opsUrl!, route.method, concrete(route.path), headers, '{}');
        expect({ route: `${route.method} ${route.path}`, status: res.status }).toEqual({
          route: `${route.method} ${route.path}`,
          status: 404,
        });
      }
    }
  });

  it('serves the docs and Bull Board on the public listener only', async () => {
    for (const path of ['/docs', '/docs-json', '/admin/queues']) {
      const ops = await rawRequest(api.opsUrl!, 'GET', path, admin);
      expect({ path, status: ops.status }).toEqual({ path, status: 404 });
      expect(isNoRoute(ops)).toBe(true);
      const pub = await rawRequest(api.url, 'GET', path, admin);
      expect({ path, ok: pub.status < 400 }).toEqual({ path, ok: true });
    }
  });
});
