import { RedisKeys } from '@herald/queues';
import { FakeSites, testRedisPrefix, testRedisUrl, type TestDatabase } from '@herald/testing';
import { Redis } from 'ioredis';
import { register } from 'prom-client';
import type { DataSource } from 'typeorm';
import { QualifyMetrics } from '../qualify-metrics';
import { fakeWebGuard, insertTenant, testDataSource } from '../test/qualify-fixtures';
import { FetchSlots } from '../fetch-slots';
import { DomainPacer } from './domain-pacer';
import { SiteAssessor } from './site-assessor';

describe('SiteAssessor against the fake sites (real HTTP and TLS, Postgres cache, Redis pacing)', () => {
  let sites: FakeSites;
  let database: TestDatabase;
  let dataSource: DataSource;
  let redis: Redis;
  let otherRedis: Redis;
  let tenant: string;
  const metrics = new QualifyMetrics();
  const keys = new RedisKeys(testRedisPrefix());

  const assessor = (
    options: {
      timeoutMs?: number;
      maxBytes?: number;
      allowPrivate?: boolean;
      client?: Redis;
      slots?: FetchSlots;
    } = {},
  ) =>
    new SiteAssessor({
      guard: fakeWebGuard(options.allowPrivate ?? true),
      pacer: new DomainPacer(options.client ?? redis, keys),
      slots: options.slots ?? new FetchSlots(8),
      dataSource,
      metrics,
      limits: {
        timeoutMs: options.timeoutMs ?? 8000,
        maxBytes: options.maxBytes ?? 256 * 1024,
        maxRedirects: 4,
        userAgent: 'HeraldBot/test',
      },
      cacheTtlSeconds: 3600,
    });

  beforeAll(async () => {
    sites = await FakeSites.start();
    ({ database, dataSource } = await testDataSource());
    redis = new Redis(testRedisUrl());
    otherRedis = new Redis(testRedisUrl());
  });
  afterAll(async () => {
    await sites.stop();
    await dataSource.destroy();
    await database.drop();
    redis.disconnect();
    otherRedis.disconnect();
  });
  beforeEach(async () => {
    tenant = await insertTenant(dataSource);
  });

  it('assesses a good site through its redirect to https: self-signed certificate, title, viewport, contacts, generator', async () => {
    const result = await assessor().assess(tenant, sites.url('good-1'));
    expect(result).toMatchObject({
      domain: 'good-1.sites.test',
      status: 200,
      https: true,
      cert_valid: false,
      redirects: 1,
      title: 'Good 1',
      description: 'Good 1: the best in town',
      viewport: true,
      email_found: true,
      phone_found: true,
      emails: ['hello@good-1.sites.test'],
      generator: 'WordPress 6.5',
      truncated: false,
      error: null,
    });
    expect(result.cert_error).toMatch(/SELF_SIGNED|self.signed|UNABLE/i);
    expect(result.final_url).toBe(`https://good-1.sites.test:${sites.httpsPort}/`);
    expect(result.bytes).toBeGreaterThan(200);
    expect(result.ttfb_ms).toBeGreaterThanOrEqual(0);
  });

  it('reports a plain http site without viewport, description or contacts as such', async () => {
    const result = await assessor().assess(tenant, `bare-1.sites.test:${sites.httpPort}`);
    expect(result).toMatchObject({
      status: 200,
      https: false,
      cert_valid: null,
      redirects: 0,
      viewport: false,
      description: null,
      email_found: false,
      phone_found: false,
      generator: null,
      error: null,
    });
  });

  it('measures a slow first byte', async () => {
    const result = await assessor().assess(tenant, sites.url('slow-1'));
    expect(result.error).toBeNull();
    expect(result.ttfb_ms).toBeGreaterThanOrEqual(2000);
  });

  it('hostile pages: huge is cut at the cap, a hanging one times out, a redirect loop stops, a 500 is a status', async () => {
    const [huge, hang, loop, broken] = await Promise.all([
      assessor({ maxBytes: 64 * 1024 }).assess(tenant, sites.url('huge-1')),
      assessor({ timeoutMs: 1000 }).assess(tenant, sites.url('hang-1')),
      assessor().assess(tenant, sites.url('loop-1')),
      assessor().assess(tenant, sites.url('broken-1')),
    ]);
    expect(huge).toMatchObject({
      status: 200,
      truncated: true,
      bytes: 64 * 1024,
      title: 'Huge 1',
      error: null,
    });
    expect(hang).toMatchObject({ error: 'timeout', status: null });
    expect(loop).toMatchObject({ error: 'too_many_redirects', redirects: 4 });
    expect(broken).toMatchObject({ error: null, status: 500 });
  });

  it('refuses a site on a private address unless private networks are allowed, without a request', async () => {
    const before = sites.requestsTo('good-2.sites.test').length;
    const result = await assessor({ allowPrivate: false }).assess(tenant, sites.url('good-2'));
    expect(result.error).toBe('address_refused');
    expect(result.error_detail).toContain('127.0.0.1');
    expect(sites.requestsTo('good-2.sites.test').length).toBe(before);
  });

  it('refuses a private IP literal without any override, and a loopback name of the fake web, without a request', async () => {
    const count = sites.requests.length;
    const literal = await assessor({ allowPrivate: false }).assess(
      tenant,
      `http://127.0.0.1:${sites.httpPort}/`,
    );
    expect(literal).toMatchObject({ domain: '127.0.0.1', error: 'address_refused' });
    const metadata = await assessor({ allowPrivate: false }).assess(
      tenant,
      'http://169.254.169.254/latest/meta-data/',
    );
    expect(metadata.error).toBe('address_refused');
    expect(sites.requests.length).toBe(count);
  });

  it('respects robots.txt: a disallowed page is never fetched', async () => {
    const result = await assessor().assess(tenant, sites.url('robots-1'));
    expect(result.error).toBe('robots_disallowed');
    expect(sites.requestsTo('robots-1.sites.test').map((r) => r.path)).toEqual(['/robots.txt']);
  });

  it('reuses a cached assessment per tenant and domain until it expires', async () => {
    const first = await assessor().assess(tenant, sites.url('good-3'));
    const fetched = sites.requestsTo('good-3.sites.test').length;
    const again = await assessor().assess(tenant, 'https://WWW.good-3.sites.test/other');
    expect(again).toEqual(first);
    expect(sites.requestsTo('good-3.sites.test').length).toBe(fetched);
    const [row] = await dataSource.query<{ ttl: number }[]>(
      `SELECT extract(epoch FROM expires_at - fetched_at)::int AS ttl FROM site_assessments WHERE tenant_id = $1 AND domain = 'good-3.sites.test'`,
      [tenant],
    );
    expect(row?.ttl).toBe(3600);
    // Another tenant does not see it; an expired entry is fetched again.
    const other = await insertTenant(dataSource);
    await assessor().assess(other, sites.url('good-3'));
    expect(sites.requestsTo('good-3.sites.test').length).toBeGreaterThan(fetched);
    const count = sites.requestsTo('good-3.sites.test').length;
    await dataSource.query(
      `UPDATE site_assessments SET expires_at = now() - interval '1 second' WHERE tenant_id = $1`,
      [tenant],
    );
    await assessor().assess(tenant, sites.url('good-3'));
    expect(sites.requestsTo('good-3.sites.test').length).toBeGreaterThan(count);
  });

  it('sends at most one request per domain per second across two clients', async () => {
    const second = await insertTenant(dataSource);
    await Promise.all([
      assessor({ client: redis }).assess(tenant, sites.url('plain-7')),
      assessor({ client: otherRedis }).assess(second, sites.url('plain-7')),
    ]);
    const times = sites.requestsTo('plain-7.sites.test').map((r) => r.at);
    expect(times).toHaveLength(4); // robots.txt and the page, for each tenant
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(950);
  });

  it('sends robots.txt and the page of a site on one kept-alive connection', async () => {
    await assessor().assess(tenant, sites.url('plain-8'));
    const requests = sites.requestsTo('plain-8.sites.test');
    expect(requests.map((r) => r.path)).toEqual(['/robots.txt', '/']);
    expect(requests[1]!.clientPort).toBe(requests[0]!.clientPort);
  });

  it('holds no fetch slot while a domain waits for its turn: with one slot, two sites interleave', async () => {
    const slots = new FetchSlots(1);
    await Promise.all([
      assessor({ slots }).assess(tenant, sites.url('plain-9')),
      assessor({ slots }).assess(tenant, sites.url('plain-10')),
    ]);
    const nine = sites.requestsTo('plain-9.sites.test');
    const ten = sites.requestsTo('plain-10.sites.test');
    expect(nine.map((r) => r.path)).toEqual(['/robots.txt', '/']);
    expect(ten.map((r) => r.path)).toEqual(['/robots.txt', '/']);
    // Both robots.txt went out while the other site's page waited for its domain's next second.
    expect(Math.max(nine[0]!.at, ten[0]!.at)).toBeLessThan(Math.min(nine[1]!.at, ten[1]!.at));
    expect(slots.busy).toBe(0);
    // Operators see the slots at scrape time.
    const scraped = await register.getSingleMetricAsString('herald_sourcing_fetch_slots');
    expect(scraped).toContain('herald_sourcing_fetch_slots{state="size"} 1');
    expect(scraped).toContain('herald_sourcing_fetch_slots{state="busy"} 0');
    expect(scraped).toContain('herald_sourcing_fetch_slots{state="waiting"} 0');
  });
});
