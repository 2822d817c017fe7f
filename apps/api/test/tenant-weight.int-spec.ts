import { FairQueue, FanoutService } from '@herald/deliveries';
import { REDIS, RedisKeys } from '@herald/queues';
import { seedBroadcast, testEnvironment } from '@herald/testing';
import type { Redis } from 'ioredis';
import { TestApi } from '../../../test/support/api-app';

interface Tenant {
  id: string;
  delivery_weight: number;
}
interface Problem {
  errors: { field: string }[];
}

/**
 * A tenant's delivery weight: set at creation or later by the platform admin, validated, and
 * carried by the fan-out into the fair queue, where it sets the tenant's pages per turn.
 */
describe('tenant delivery weight (platform API → fair queue)', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('is 1 unless given, and is set at creation or by PATCH', async () => {
    const plain = await api.request<Tenant>('POST', '/v1/tenants', {
      body: { name: 'Plain', time_zone: 'UTC' },
    });
    expect(plain.body.delivery_weight).toBe(1);
    const heavy = await api.request<Tenant>('POST', '/v1/tenants', {
      body: { name: 'Heavy', time_zone: 'UTC', delivery_weight: 3 },
    });
    expect(heavy.status).toBe(201);
    expect(heavy.body.delivery_weight).toBe(3);

    const patched = await api.request<Tenant>('PATCH', `/v1/tenants/${plain.body.id}`, {
      body: { delivery_weight: 5 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: plain.body.id, delivery_weight: 5 });
    const [row] = await api.query<{ delivery_weight: number }>(
      'SELECT delivery_weight FROM tenants WHERE id = $1',
      [plain.body.id],
    );
    expect(row!.delivery_weight).toBe(5);
    // Nothing given: nothing changes.
    const same = await api.request<Tenant>('PATCH', `/v1/tenants/${plain.body.id}`, { body: {} });
    expect(same.body.delivery_weight).toBe(5);
  });

  it('refuses a weight outside 1–100 or not whole, naming the field, and changes nothing', async () => {
    const t = await api.createTenant();
    for (const bad of [0, 101, 2.5, '3', null]) {
      const res = await api.request<Problem>('PATCH', `/v1/tenants/${t.id}`, {
        body: { delivery_weight: bad },
      });
      expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
      expect(res.body.errors.map((e) => e.field)).toEqual(['delivery_weight']);
    }
    const created = await api.request<Problem>('POST', '/v1/tenants', {
      body: { name: 'X', time_zone: 'UTC', delivery_weight: 1000 },
    });
    expect(created.status).toBe(400);
    expect(created.body.errors.map((e) => e.field)).toEqual(['delivery_weight']);
    const [row] = await api.query<{ delivery_weight: number }>(
      'SELECT delivery_weight FROM tenants WHERE id = $1',
      [t.id],
    );
    expect(row!.delivery_weight).toBe(1);
  });

  it('answers 404 for an unknown tenant and 403 to a tenant key', async () => {
    const missing = await api.request('PATCH', '/v1/tenants/0190f5e4-1111-7c3d-8e4f-5a6b7c8d9e0f', {
      body: { delivery_weight: 2 },
    });
    expect(missing.status).toBe(404);
    const t = await api.createTenant();
    const asTenant = await api.request('PATCH', `/v1/tenants/${t.id}`, {
      key: t.key,
      body: { delivery_weight: 100 },
    });
    expect(asTenant.status).toBe(403);
  });

  it("is the weight the fan-out gives the tenant's queue in the fair queue", async () => {
    const env = testEnvironment({
      DATABASE_URL: api.database.url,
      REDIS_URL: api.config.redis.url.reveal(),
      QUEUE_PREFIX: api.config.redis.prefix,
    });
    const seeded = await seedBroadcast({
      databaseUrl: api.database.url,
      env,
      contacts: 1000,
      channel: 'dry-run',
    });
    const patched = await api.request('PATCH', `/v1/tenants/${seeded.tenantId}`, {
      body: { delivery_weight: 7 },
    });
    expect(patched.status).toBe(200);
    const result = await api.app.get(FanoutService).fanout(seeded.tenantId, seeded.runId);
    expect(result).toMatchObject({ targeted: 1000, paused: false });
    const redis = api.app.get<Redis>(REDIS);
    const keys = api.app.get(RedisKeys);
    const fair = api.app.get(FairQueue);
    // No worker here: a window of pages was dispatched, the rest wait for a turn, under the weight.
    const [weight, backlog, stats] = await Promise.all([
      redis.hget(keys.key('fair', 'weight'), seeded.tenantId),
      fair.backlog(seeded.tenantId),
      fair.stats(),
    ]);
    expect(weight).toBe('7');
    expect(stats.inFlight).toBeGreaterThan(0);
    expect(backlog).toBe(1000 - 100 * stats.inFlight);
  });
});
