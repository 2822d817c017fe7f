import { JobProducer, RedisKeys } from '@herald/queues';
import { generateApiKey } from '@herald/tenants';
import { HeraldLogger, HeraldMetrics } from '@herald/telemetry';
import { eventually, freePort, TEST_ADMIN_KEY } from '@herald/testing';
import { Redis } from 'ioredis';
import { crc32 } from 'node:zlib';
import { register } from 'prom-client';
import { TestApi } from '../../../test/support/api-app';
import { failSystemJobs } from '../../../test/support/failed-jobs';
import { AuthThrottle } from '../src/http/auth-throttle';

type Problem = { type: string; status: number; detail: string };

const PER_ADDRESS = 5;
const PER_PREFIX = 3;
const WINDOW_MS = 3000;

/** A well-formed Herald key (valid checksum, as any guesser can compute) with a chosen prefix. */
function guessFor(prefix: string): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const body = `hk_${prefix}_${generateApiKey().key.slice(16, 48)}`;
  let value = crc32(body);
  let sum = '';
  for (let i = 0; i < 6; i++) {
    sum = alphabet[value % 62]! + sum;
    value = Math.floor(value / 62);
  }
  return body + sum;
}

async function counter(name: string, labels: Record<string, string>): Promise<number> {
  const metric = await register.getSingleMetric(name)?.get();
  const sample = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return sample?.value ?? 0;
}

describe('throttled failed authentications', () => {
  let api: TestApi;
  let tenant: { id: string; key: string };
  let other: { id: string; key: string };
  let warn: jest.SpyInstance<void, [unknown, string?, ...unknown[]]>;

  /** GET /v1/contacts as a client at `address` (the api trusts X-Forwarded-For from loopback). */
  const asClient = (address: string, headers: Record<string, string>) =>
    api.request<Problem>('GET', '/v1/contacts', {
      key: null,
      headers: { 'x-forwarded-for': address, ...headers },
    });
  const board = (address: string, password: string, init: RequestInit = {}, path = '') =>
    fetch(`${api.url}/admin/queues${path}`, {
      ...init,
      headers: {
        'x-forwarded-for': address,
        authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`,
        ...(init.headers as Record<string, string> | undefined),
      },
    });

  beforeAll(async () => {
    api = await TestApi.start({
      AUTH_FAILURE_LIMIT_PER_ADDRESS: String(PER_ADDRESS),
      AUTH_FAILURE_LIMIT_PER_KEY_PREFIX: String(PER_PREFIX),
      AUTH_FAILURE_WINDOW_MS: String(WINDOW_MS),
    });
    tenant = await api.createTenant('A');
    other = await api.createTenant('B');
    warn = jest.spyOn(api.app.get(HeraldLogger), 'warn');
  });
  afterAll(async () => {
    await api.close();
  });

  it('refuses an address after N failures with 429 and Retry-After, even with a correct key, until the window passes', async () => {
    const address = '203.0.113.10';
    const guesses: Record<string, string>[] = [
      { authorization: 'Bearer hk_short' },
      { 'x-api-key': `${TEST_ADMIN_KEY}x` },
      { 'x-api-key': generateApiKey().key },
      { authorization: `Bearer ${generateApiKey().key}` },
      { authorization: `Bearer ${generateApiKey().key}` },
    ];
    expect(guesses).toHaveLength(PER_ADDRESS);
    const malformedBefore = await counter('herald_auth_failures_total', { reason: 'malformed' });
    const unknownBefore = await counter('herald_auth_failures_total', { reason: 'unknown' });
    const throttledBefore = await counter('herald_auth_throttled_total', { scope: 'address' });
    for (const headers of guesses) expect((await asClient(address, headers)).status).toBe(401);
    expect(await counter('herald_auth_failures_total', { reason: 'malformed' })).toBe(malformedBefore + 2);
    expect(await counter('herald_auth_failures_total', { reason: 'unknown' })).toBe(unknownBefore + 3);

    const refused = await asClient(address, { 'x-api-key': generateApiKey().key });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.type).toMatch(/rate-limited$/);
    expect(refused.body.detail).toContain('from this address');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
    expect(await counter('herald_auth_throttled_total', { scope: 'address' })).toBe(throttledBefore + 1);

    // Whatever the key: the right one gets the same answer as a guess.
    expect((await asClient(address, { authorization: `Bearer ${tenant.key}` })).status).toBe(429);
    expect((await asClient(address, { authorization: `Bearer ${TEST_ADMIN_KEY}` })).status).toBe(429);
    expect((await asClient(address, {})).status).toBe(429);
    expect((await asClient('203.0.113.11', { authorization: `Bearer ${tenant.key}` })).status).toBe(200);

    const logged = warn.mock.calls.find(([fields]) => (fields as { scope?: string }).scope === 'address');
    expect(logged?.[0]).toMatchObject({
      client_address: address,
      address_bucket: address,
      reason: 'unknown',
    });
    expect(logged?.[1]).toMatch(/locked out/);
    const everything = JSON.stringify(warn.mock.calls);
    for (const headers of guesses) {
      const presented = Object.values(headers)[0]!.replace(/^Bearer /, '');
      expect(everything).not.toContain(presented);
    }
    expect(everything).not.toContain(TEST_ADMIN_KEY);

    // Refusals are not failures: the lock lifts once the first failures leave the window.
    await eventually(
      async () => (await asClient(address, { authorization: `Bearer ${tenant.key}` })).status === 200,
      { what: 'the correct key accepted again' },
    );
  });

  it('counts successful authentications not at all', async () => {
    const address = '203.0.113.20';
    for (let i = 0; i < PER_ADDRESS * 3; i++) {
      expect((await asClient(address, { 'x-api-key': tenant.key })).status).toBe(200);
    }
    // Missing credentials are not guesses either.
    for (let i = 0; i < PER_ADDRESS * 2; i++) expect((await asClient(address, {})).status).toBe(401);
    expect((await asClient(address, { 'x-api-key': generateApiKey().key })).status).toBe(401);
  });

  it('counts IPv6 clients by /64', async () => {
    for (let i = 1; i <= PER_ADDRESS; i++) {
      expect((await asClient(`2001:db8:7:7::${i}`, { 'x-api-key': generateApiKey().key })).status).toBe(401);
    }
    expect((await asClient('2001:db8:7:7:abcd::1', { 'x-api-key': tenant.key })).status).toBe(429);
    expect((await asClient('2001:db8:7:8::1', { 'x-api-key': tenant.key })).status).toBe(200);
  });

  it('refuses a key prefix guessed from many addresses, from every address', async () => {
    const prefix = tenant.key.slice(3, 15);
    const throttledBefore = await counter('herald_auth_throttled_total', { scope: 'prefix' });
    for (let i = 1; i <= PER_PREFIX; i++) {
      const res = await asClient(`198.51.100.${i}`, { 'x-api-key': guessFor(prefix) });
      expect({ i, status: res.status }).toEqual({ i, status: 401 });
    }
    const refused = await asClient('198.51.100.50', { 'x-api-key': guessFor(prefix) });
    expect(refused.status).toBe(429);
    expect(refused.body.detail).toContain('prefix');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await counter('herald_auth_throttled_total', { scope: 'prefix' })).toBe(throttledBefore + 1);
    // The real key of that prefix, from an address that never failed: refused too.
    expect((await asClient('198.51.100.60', { 'x-api-key': tenant.key })).status).toBe(429);
    // Other keys from that address are fine: the address itself is not locked.
    expect((await asClient('198.51.100.60', { 'x-api-key': other.key })).status).toBe(200);
    expect(JSON.stringify(warn.mock.calls)).not.toContain(tenant.key.slice(16));
    await eventually(
      async () => (await asClient('198.51.100.60', { 'x-api-key': tenant.key })).status === 200,
      { what: 'the prefix unlocked' },
    );
  });

  it('counts failed Bull Board logins against the same address buckets', async () => {
    const address = '192.0.2.30';
    const before = await counter('herald_auth_failures_total', { reason: 'not_admin_key' });
    for (let i = 0; i < PER_ADDRESS; i++) {
      const res = await board(address, `wrong-${i}`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
    expect(await counter('herald_auth_failures_total', { reason: 'not_admin_key' })).toBe(
      before + PER_ADDRESS,
    );
    const locked = await board(address, TEST_ADMIN_KEY);
    expect(locked.status).toBe(429);
    expect(locked.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // One limiter for the whole api: the same address is refused on /v1 too.
    expect((await asClient(address, { 'x-api-key': tenant.key })).status).toBe(429);
    expect((await board('192.0.2.31', TEST_ADMIN_KEY)).status).toBe(200);
  });

  describe('Bull Board changes', () => {
    const retryFailed = '/api/queues/system/retry/failed';
    const address = '192.0.2.40';

    const failedJobs = (...ids: string[]) => failSystemJobs(api, ...ids);
    const failedCount = () => api.app.get(JobProducer).queue('system').getFailedCount();

    it('refuses cross-site requests with valid credentials (403), and nothing changes', async () => {
      await failedJobs('cross-1');
      const attempts: [string, Record<string, string>][] = [
        ['PUT', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }],
        ['PUT', { 'sec-fetch-site': 'same-site', origin: 'https://admin.evil.example' }],
        ['PUT', { 'sec-fetch-site': 'cross-site', origin: api.url }],
        ['PUT', { origin: 'https://evil.example' }],
        ['PUT', { origin: 'null' }],
        ['PUT', {}],
        ['POST', { 'sec-fetch-site': 'cross-site' }],
        ['DELETE', { origin: 'https://evil.example' }],
      ];
      for (const [method, headers] of attempts) {
        const res = await board(address, TEST_ADMIN_KEY, { method, headers }, retryFailed);
        expect({ method, headers, status: res.status }).toEqual({ method, headers, status: 403 });
        expect(res.headers.get('content-type')).toContain('application/problem+json');
      }
      expect(await failedCount()).toBe(1);
      // Reading stays open to any request with the key (the existing Bull Board test covers it).
      expect(
        (await board(address, TEST_ADMIN_KEY, { headers: { 'sec-fetch-site': 'cross-site' } }, '/api/queues'))
          .status,
      ).toBe(200);
    });

    it('accepts the same changes from its own origin, as the board’s page sends them', async () => {
      await failedJobs('same-1');
      const asPage = await board(
        address,
        TEST_ADMIN_KEY,
        { method: 'PUT', headers: { 'sec-fetch-site': 'same-origin', origin: api.url } },
        retryFailed,
      );
      expect(asPage.status).toBe(200);
      expect(await failedCount()).toBe(0);
      expect(await api.app.get(JobProducer).queue('system').getJobState('same-1')).toBe('waiting');

      await failedJobs('same-2');
      const asScript = await board(
        address,
        TEST_ADMIN_KEY,
        { method: 'PUT', headers: { origin: api.url } },
        retryFailed,
      );
      expect(asScript.status).toBe(200);
      expect(await failedCount()).toBe(0);
    });

    it('still needs the admin key from its own origin', async () => {
      const res = await board(
        '192.0.2.41',
        'wrong',
        { method: 'PUT', headers: { 'sec-fetch-site': 'same-origin' } },
        retryFailed,
      );
      expect(res.status).toBe(401);
    });
  });

  it('fails open with one warning while Redis is unreachable', async () => {
    const down = new Redis({ port: await freePort(), lazyConnect: true, enableOfflineQueue: false });
    const logger = { warn: jest.fn<void, [Record<string, unknown>, string]>() };
    const throttle = new AuthThrottle(
      down,
      new RedisKeys('down'),
      api.config,
      api.app.get(HeraldMetrics),
      logger as unknown as HeraldLogger,
    );
    try {
      const attempt = { address: '192.0.2.99', bucket: '192.0.2.99', prefix: undefined };
      for (let i = 0; i < PER_ADDRESS * 2; i++) {
        expect(await throttle.failUnlessLocked(attempt, 'malformed')).toBeUndefined();
      }
      expect(await throttle.check(attempt)).toBeUndefined();
      expect(logger.warn).toHaveBeenCalledTimes(1);
      expect(logger.warn.mock.calls[0]![1]).toMatch(/unavailable: allowing attempts/);
    } finally {
      down.disconnect();
    }
  });
});

describe('throttled failed authentications without a per-key rate limit', () => {
  let api: TestApi;

  beforeAll(async () => {
    // No token bucket to check the lockout on the way: the check is a call of its own.
    api = await TestApi.start({
      API_RATE_LIMIT_PER_SECOND: '0',
      AUTH_FAILURE_LIMIT_PER_ADDRESS: '2',
      AUTH_FAILURE_WINDOW_MS: '60000',
    });
  });
  afterAll(async () => {
    await api.close();
  });

  it('still refuses a locked-out address, even with a correct key', async () => {
    const { key } = await api.createTenant('Unlimited');
    const asClient = (headers: Record<string, string>) =>
      api.request<Problem>('GET', '/v1/contacts', {
        key: null,
        headers: { 'x-forwarded-for': '203.0.113.80', ...headers },
      });
    expect((await asClient({ authorization: `Bearer ${key}` })).status).toBe(200);
    for (let i = 0; i < 2; i++)
      expect((await asClient({ authorization: `Bearer ${generateApiKey().key}` })).status).toBe(401);
    const refused = await asClient({ authorization: `Bearer ${key}` });
    expect(refused.status).toBe(429);
    expect(refused.body.detail).toContain('from this address');
    expect((await asClient({ authorization: `Bearer ${TEST_ADMIN_KEY}` })).status).toBe(429);
  });
});
