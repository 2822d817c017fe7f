import { REDIS, RedisKeys } from '@herald/queues';
import { eventually } from '@herald/testing';
import type { Redis } from 'ioredis';
import { TestApi } from '../../../test/support/api-app';
import { StalledRequest, type RawAnswer } from '../../../test/support/stalled-request';

type Problem = { type: string; status: number; detail: string };

const IDLE_MS = 1500;
/** More rows than one staged chunk (5,000), so an import has staged something before it is cut. */
const CSV_ROWS = 6000;

function csvRows(from: number, count: number): string {
  let text = '';
  for (let i = from; i < from + count; i++) text += `user${i}@example.com,User${i}\r\n`;
  return text;
}

function stalledImport(
  api: TestApi,
  key: string,
  bodyStart = 'email,first_name\r\n',
  headers: Record<string, string> = {},
) {
  return StalledRequest.open(
    api.url,
    '/v1/contacts/import',
    { authorization: `Bearer ${key}`, 'content-type': 'text/csv', connection: 'close', ...headers },
    bodyStart,
  );
}

async function stagedRows(api: TestApi): Promise<number> {
  const [row] = await api.query<{ n: string }>('SELECT count(*) AS n FROM contact_import_rows');
  return Number(row!.n);
}

async function contactCount(api: TestApi, tenantId: string): Promise<number> {
  const [row] = await api.query<{ n: string }>('SELECT count(*) AS n FROM contacts WHERE tenant_id = $1', [
    tenantId,
  ]);
  return Number(row!.n);
}

function expectTimedOut(answer: RawAnswer | undefined): void {
  expect(answer?.status).toBe(408);
  expect(answer?.headers['content-type']).toContain('application/problem+json');
  expect(answer?.headers.connection).toBe('close');
  expect((JSON.parse(answer!.body) as Problem).type).toBe('https://herald.dev/problems/request-timeout');
}

describe('stalled request bodies hold no pooled connection', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await TestApi.start({
      HTTP_BODY_IDLE_TIMEOUT_MS: String(IDLE_MS),
      DATABASE_POOL_MAX: '4',
      API_IMPORT_CONCURRENCY_PER_TENANT: '50',
    });
  });
  afterAll(async () => {
    await api.close();
  });

  it('20 stalled imports of tenant A: tenant B and /ready still answer, and the stalled ones get 408', async () => {
    const a = await api.createTenant('A');
    const b = await api.createTenant('B');
    await api.request('POST', '/v1/contacts', { key: b.key, body: { email: 'b@x.io' } });
    const opened = performance.now();
    const stalled = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stalledImport(api, a.key, `email\r\nstalled${i}@x.io\r\n`)),
    );

    // Five times the pool: with a transaction per stalled import, these would wait for a connection.
    for (let i = 0; i < 3; i++) {
      const list = await api.request<{ data: { email: string }[] }>('GET', '/v1/contacts', { key: b.key });
      expect(list.status).toBe(200);
      expect(list.body.data.map((c) => c.email)).toEqual(['b@x.io']);
      expect((await api.request('GET', '/ready', { key: null })).status).toBe(200);
    }
    const idle = await api.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
    );
    expect(Number(idle[0]!.n)).toBe(0);

    const answers = await Promise.all(stalled.map((s) => s.answer));
    for (const answer of answers) expectTimedOut(answer);
    for (const s of stalled) expect(s.answeredAt - opened).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(await contactCount(api, a.id)).toBe(0);
    expect(await stagedRows(api)).toBe(0);
  });

  it('a JSON body that stalls gets 408 too', async () => {
    const a = await api.createTenant('A');
    const request = await StalledRequest.open(
      api.url,
      '/v1/contacts',
      { authorization: `Bearer ${a.key}`, 'content-type': 'application/json' },
      '{"email": "half',
    );
    expectTimedOut(await request.answer);
    expect(await contactCount(api, a.id)).toBe(0);
  });

  it('a body that keeps arriving slowly is not cut', async () => {
    const a = await api.createTenant('A');
    const request = await stalledImport(api, a.key, 'email\r\n');
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS / 2)); // the client's own pace
      await request.send(`slow${i}@x.io\r\n`);
    }
    await request.send('');
    const answer = await request.answer;
    expect(answer?.status).toBe(200);
    expect(JSON.parse(answer!.body)).toMatchObject({ created: 4, failed: 0 });
    expect(await contactCount(api, a.id)).toBe(4);
  });
});

describe('imports cut after staging leave nothing behind', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await TestApi.start({
      // Long enough that a loaded machine stages a chunk before the stall counts as one.
      HTTP_BODY_IDLE_TIMEOUT_MS: '6000',
      DATABASE_POOL_MAX: '4',
    });
  });
  afterAll(async () => {
    await api.close();
  });

  it('a body staged in part before it ends is merged whole, by the same upsert rules', async () => {
    const a = await api.createTenant('A');
    const seeded = await api.request('POST', '/v1/contacts/import', {
      key: a.key,
      body: [
        {
          email: 'ada@x.io',
          external_ref: 'crm-ada',
          first_name: 'Ada',
          // One key short of the cap: two more would break it once merged.
          attributes: Object.fromEntries(Array.from({ length: 99 }, (_, i) => [`k${i}`, i])),
        },
      ],
    });
    expect(seeded.status).toBe(200);
    const first = [
      'ada@x.io,,Ada2,,', // row 1: updates the existing contact
      'new1@x.io,crm-n1,N1,,', // row 2: a new contact…
      'new1@x.io,,N1b,,', // row 3: …that a later row of the same chunk updates
      'ada@x.io,crm-n1,,,', // row 4: email and external_ref name two different contacts
      'ada@x.io,,,x,y', // row 5: its attributes merged with the stored ones would be 101 keys
      ...Array.from({ length: CSV_ROWS - 5 }, (_, i) => `user${i}@example.com,,User,,`),
    ];
    const request = await stalledImport(
      api,
      a.key,
      `email,external_ref,first_name,attributes.extra1,attributes.extra2\r\n${first.join('\r\n')}\r\n`,
    );
    await eventually(async () => (await stagedRows(api)) > 0, { what: 'a staged chunk' });
    // The rest: a row updating a contact created by a staged row, and a bad row.
    await request.send('user0@example.com,,Again,,\r\nbad-email,,,,\r\n');
    await request.send('');
    const answer = await request.answer;
    expect(answer?.status).toBe(200);
    expect(JSON.parse(answer!.body)).toEqual({
      created: 1 + (CSV_ROWS - 5),
      updated: 3,
      failed: 3,
      errors: [
        { row: 4, field: 'external_ref', message: 'belongs to a different contact than the email' },
        { row: 5, field: 'attributes', message: 'would have 101 keys after merging (at most 100)' },
        { row: CSV_ROWS + 2, field: 'email', message: 'must be an email address' },
      ],
      errors_truncated: false,
    });
    const rows = await api.query<{ email: string; external_ref: string | null; first_name: string }>(
      `SELECT email, external_ref, first_name FROM contacts
       WHERE tenant_id = $1 AND email IN ('ada@x.io', 'new1@x.io', 'user0@example.com', 'user1@example.com')
       ORDER BY email`,
      [a.id],
    );
    expect(rows).toEqual([
      { email: 'ada@x.io', external_ref: 'crm-ada', first_name: 'Ada2' },
      { email: 'new1@x.io', external_ref: 'crm-n1', first_name: 'N1b' },
      { email: 'user0@example.com', external_ref: null, first_name: 'Again' },
      { email: 'user1@example.com', external_ref: null, first_name: 'User' },
    ]);
    expect(await contactCount(api, a.id)).toBe(2 + (CSV_ROWS - 5));
    const [ada] = await api.query<{ keys: number }>(
      `SELECT count(*)::int AS keys FROM contacts, jsonb_object_keys(attributes) WHERE tenant_id = $1 AND email = 'ada@x.io'`,
      [a.id],
    );
    expect(ada!.keys).toBe(99);
    expect(await stagedRows(api)).toBe(0);
  });

  it('an Idempotency-Key works for a staged import: the same body replays, another is a 422', async () => {
    const a = await api.createTenant('A');
    const head = 'email,first_name\r\n';
    const body = `${head}${csvRows(0, CSV_ROWS)}`;
    const request = await stalledImport(api, a.key, body, { 'idempotency-key': 'staged-1' });
    await eventually(async () => (await stagedRows(api)) > 0, { what: 'a staged chunk' });
    await request.send('');
    const answer = await request.answer;
    expect(answer?.status).toBe(200);
    expect(JSON.parse(answer!.body)).toMatchObject({ created: CSV_ROWS, failed: 0 });
    const again = (raw: string) =>
      api.request<{ created: number; type: string }>('POST', '/v1/contacts/import', {
        key: a.key,
        raw,
        headers: { 'content-type': 'text/csv', 'idempotency-key': 'staged-1' },
      });
    const replay = await again(body);
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.created).toBe(CSV_ROWS);
    const reused = await again(`${head}other@x.io,Other\r\n`);
    expect(reused.status).toBe(422);
    expect(reused.body.type).toBe('https://herald.dev/problems/idempotency-key-reused');
    expect(await contactCount(api, a.id)).toBe(CSV_ROWS);
    expect(await stagedRows(api)).toBe(0);
  });

  it('a body that stalls after some chunks were staged: 408, nothing imported, nothing left staged', async () => {
    const a = await api.createTenant('A');
    const request = await stalledImport(api, a.key, `email,first_name\r\n${csvRows(0, CSV_ROWS)}`);
    await eventually(async () => (await stagedRows(api)) > 0, { what: 'a staged chunk' });
    expectTimedOut(await request.answer);
    expect(await contactCount(api, a.id)).toBe(0);
    await eventually(async () => (await stagedRows(api)) === 0, { what: 'staged rows removed' });
  });

  it('a client that hangs up mid-import leaves no staged rows and no contacts', async () => {
    const a = await api.createTenant('A');
    const request = await stalledImport(api, a.key, `email,first_name\r\n${csvRows(0, CSV_ROWS)}`);
    await eventually(async () => (await stagedRows(api)) > 0, { what: 'a staged chunk' });
    request.abort();
    await eventually(async () => (await stagedRows(api)) === 0, { what: 'staged rows removed' });
    expect(await contactCount(api, a.id)).toBe(0);
    // The same import sent whole lands whole.
    const whole = await api.request<{ created: number }>('POST', '/v1/contacts/import', {
      key: a.key,
      raw: `email,first_name\r\n${csvRows(0, CSV_ROWS)}`,
      headers: { 'content-type': 'text/csv' },
    });
    expect(whole.status).toBe(200);
    expect(whole.body.created).toBe(CSV_ROWS);
    expect(await stagedRows(api)).toBe(0);
  });
});

describe('imports per tenant are limited (API_IMPORT_CONCURRENCY_PER_TENANT)', () => {
  let api: TestApi;
  // Long enough that the 20 requests all ask for a slot before the first two time out.
  const LIMITED_IDLE_MS = 4000;
  const slotsHeld = (tenantId: string) =>
    api.app.get<Redis>(REDIS).zcard(api.app.get(RedisKeys).key('imports', tenantId));

  beforeAll(async () => {
    api = await TestApi.start({
      HTTP_BODY_IDLE_TIMEOUT_MS: String(LIMITED_IDLE_MS),
      DATABASE_POOL_MAX: '4',
      API_IMPORT_CONCURRENCY_PER_TENANT: '2',
    });
  });
  afterAll(async () => {
    await api.close();
  });

  it('beyond the limit: 429 with Retry-After; the slots come back after a timeout, an abort, a success', async () => {
    const a = await api.createTenant('A');
    const b = await api.createTenant('B');
    const stalled = await Promise.all(Array.from({ length: 20 }, () => stalledImport(api, a.key)));
    const answers = await Promise.all(stalled.map((s) => s.answer));
    const limited = answers.filter((x) => x?.status === 429);
    expect(limited).toHaveLength(18);
    for (const answer of limited) {
      expect(Number(answer!.headers['retry-after'])).toBeGreaterThan(0);
      expect((JSON.parse(answer!.body) as Problem).type).toBe('https://herald.dev/problems/rate-limited');
    }
    const timedOut = answers.filter((x) => x?.status === 408);
    expect(timedOut).toHaveLength(2);

    await eventually(async () => (await slotsHeld(a.id)) === 0, { what: 'slots released' });

    // Another tenant is not limited by A's imports.
    const held = [await stalledImport(api, a.key), await stalledImport(api, a.key)];
    await eventually(async () => (await slotsHeld(a.id)) === 2, { what: 'both slots taken' });
    const third = await api.request('POST', '/v1/contacts/import', {
      key: a.key,
      raw: 'email\r\nx@x.io\r\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(third.status).toBe(429);
    const other = await api.request('POST', '/v1/contacts/import', {
      key: b.key,
      raw: 'email\r\nb@x.io\r\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(other.status).toBe(200);
    for (const request of held) request.abort();

    // Aborted imports give their slots back, and so do finished ones: two at once succeed again.
    await eventually(async () => (await slotsHeld(a.id)) === 0, { what: 'aborted slots released' });
    const both = await Promise.all(
      [0, 1].map((i) =>
        api.request<{ created: number }>('POST', '/v1/contacts/import', {
          key: a.key,
          raw: `email\r\nagain${i}@x.io\r\n`,
          headers: { 'content-type': 'text/csv' },
        }),
      ),
    );
    expect(both.map((r) => [r.status, r.body.created])).toEqual([
      [200, 1],
      [200, 1],
    ]);
    expect(await slotsHeld(a.id)).toBe(0);
  });

  it('slots a dead replica held expire: its leases do not block the tenant for ever', async () => {
    const a = await api.createTenant('A');
    const redis = api.app.get<Redis>(REDIS);
    const key = api.app.get(RedisKeys).key('imports', a.id);
    const [seconds] = await redis.time();
    const now = Number(seconds) * 1000;
    const importOne = () =>
      api.request('POST', '/v1/contacts/import', {
        key: a.key,
        raw: 'email\r\nx@x.io\r\n',
        headers: { 'content-type': 'text/csv' },
      });
    // Two leases still live (a replica busy elsewhere): the tenant is at its limit.
    await redis.zadd(key, now + 60_000, 'live-1', now + 60_000, 'live-2');
    expect((await importOne()).status).toBe(429);
    // The same two, past their expiry (a replica that died without releasing them): they are dropped.
    await redis.zadd(key, now - 1, 'live-1', now - 1, 'live-2');
    expect((await importOne()).status).toBe(200);
    expect(await slotsHeld(a.id)).toBe(0);
  });
});
