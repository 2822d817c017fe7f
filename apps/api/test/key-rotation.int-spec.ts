import { CredentialCipher } from '@herald/channels';
import { SenderCredentialsResealer, SenderAccountsRepository } from '@herald/deliveries';
import { createTestDatabase, type TestDatabase } from '@herald/testing';
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import type { DataSource } from 'typeorm';
import { TestApi } from '../../../test/support/api-app';
import { openDatabase } from '../../cli/src/connections';
import {
  rotateEncryption,
  type Resealer,
  type RotationReport,
} from '../../cli/src/key-rotation/encryption-rotation';
import { IdempotencyResponsesResealer } from '../../cli/src/key-rotation/idempotency-responses.resealer';

jest.setTimeout(90_000);

const K1 = randomBytes(32);
const K2 = randomBytes(32);
const ONLY_K1 = { HERALD_ENCRYPTION_KEY: `k1:${K1.toString('hex')}` };
const K2_THEN_K1 = {
  HERALD_ENCRYPTION_KEY: `k2:${K2.toString('hex')}`,
  HERALD_ENCRYPTION_PREVIOUS_KEYS: `k1:${K1.toString('hex')}`,
};
const ONLY_K2 = { HERALD_ENCRYPTION_KEY: `k2:${K2.toString('hex')}` };
const ACCOUNTS = 24;

type Account = { id: string; name: string; config: Record<string, unknown> };

const accountBody = (name: string) => ({
  name,
  channel: 'webhook',
  config: {
    url: `https://hooks.example.com/${name}`,
    secret: `whsec-${name}-${randomBytes(8).toString('hex')}`,
  },
});

/** A stored response as the api sealed it before key ids were recorded (version 1, no id). */
function legacySeal(encryptionKey: Buffer, plain: string): Buffer {
  const key = createHash('sha256').update('herald idempotency v1').update(encryptionKey).digest();
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([1]), iv, cipher.getAuthTag(), data]);
}

/**
 * A rolling key rotation as an operator runs it: the fleet moves from [k1] to [k2, k1], `herald
 * keys rotate-encryption` re-seals in batches while requests keep coming (replays, reads that
 * decrypt, new creates), then k1 leaves the ring and everything still opens.
 */
describe('rotating the encryption key while the api serves', () => {
  let database: TestDatabase;
  const apps = new Set<TestApi>();
  let operator: DataSource | undefined;

  const start = async (env: Record<string, string>) => {
    const api = await TestApi.start(env, { database });
    apps.add(api);
    return api;
  };
  const stop = async (api: TestApi) => {
    apps.delete(api);
    await api.close();
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await operator?.destroy();
    for (const api of apps) await api.close();
    await database.drop();
  });

  it('re-seals every value with k2 under traffic, no request fails, replays keep their first response, and k1 can go', async () => {
    const before = await start(ONLY_K1);
    const tenant = await before.createTenant('Rotating');
    const bodies = Array.from({ length: ACCOUNTS }, (_, i) => accountBody(`acct-${i}`));
    const originals: Account[] = [];
    for (const [i, body] of bodies.entries()) {
      const res = await before.request<Account>('POST', '/v1/sender-accounts', {
        key: tenant.key,
        body,
        headers: { 'idempotency-key': `acct-${i}` },
      });
      expect(res.status).toBe(201);
      originals.push(res.body);
    }
    // Two stored responses from before key ids were recorded.
    for (const i of [0, 1]) {
      await before.query(`UPDATE idempotency_keys SET response_body = $2 WHERE tenant_id = $1 AND key = $3`, [
        tenant.id,
        legacySeal(K1, JSON.stringify(originals[i])),
        `acct-${i}`,
      ]);
    }
    const hashBefore = await keyHash(before, tenant.keyId);
    expect(await credentialKeyIds(before)).toEqual({ k1: ACCOUNTS });

    // The fleet rolls to [k2, k1]; the old replica is gone.
    const during = await start(K2_THEN_K1);
    await stop(before);
    const accounts = during.app.get(SenderAccountsRepository, { strict: false });

    const rounds = new EventEmitter();
    const failures: string[] = [];
    const created: ReturnType<typeof accountBody>[] = [];
    let round = 0;
    let rotating = true;
    const requestRound = async (n: number) => {
      const i = n % ACCOUNTS;
      const original = originals[i]!;
      created[n] = accountBody(`new-${n}`);
      const [replay, read, sending, create] = await Promise.all([
        during.request<Account>('POST', '/v1/sender-accounts', {
          key: tenant.key,
          body: bodies[i],
          headers: { 'idempotency-key': `acct-${i}` },
        }),
        during.request<Account>('GET', `/v1/sender-accounts/${original.id}`, { key: tenant.key }),
        // As the worker reads it, decrypted; `now` moves past the repository's 5 s cache each time.
        accounts.forSending(tenant.id, original.id, Date.now() + (n + 1) * 60_000).catch((e: Error) => e),
        during.request<Account>('POST', '/v1/sender-accounts', {
          key: tenant.key,
          body: created[n],
          headers: { 'idempotency-key': `new-${n}` },
        }),
      ]);
      if (replay.status !== 201 || replay.headers.get('idempotent-replayed') !== 'true') {
        failures.push(`replay ${i}: ${replay.status} ${replay.text}`);
      } else if (JSON.stringify(replay.body) !== JSON.stringify(original)) {
        failures.push(`replay ${i} answered another body: ${replay.text}`);
      }
      if (read.status !== 200) failures.push(`read ${i}: ${read.status} ${read.text}`);
      if (sending instanceof Error || sending?.config.secret !== bodies[i]!.config.secret) {
        failures.push(
          `decrypting account ${i}: ${sending instanceof Error ? sending.message : 'wrong config'}`,
        );
      }
      if (create.status !== 201) failures.push(`create ${n}: ${create.status} ${create.text}`);
    };

    // The CLI's own pool, as `herald keys rotate-encryption` opens it; each batch waits for a
    // full round of requests, so batches and requests interleave.
    operator = await openDatabase(database.url);
    const ring = during.config.security.encryptionKeys;
    const paced = <C>(resealer: Resealer<C>): Resealer<C> => ({
      name: resealer.name,
      currentKeyId: resealer.currentKeyId,
      census: () => resealer.census(),
      resealBatch: async (after, limit) => {
        await once(rounds, 'round');
        return resealer.resealBatch(after, limit);
      },
    });
    // Requests flow from now until the rotation is over.
    const traffic = (async () => {
      while (rotating) {
        try {
          await requestRound(round);
        } catch (error) {
          failures.push(`round ${round}: ${(error as Error).message}`);
        }
        round++;
        rounds.emit('round');
      }
    })();
    const options = { batchSize: 4, passes: 10, pause: () => once(rounds, 'round').then(() => undefined) };
    let reports: RotationReport[];
    try {
      reports = [
        await rotateEncryption(
          paced(new SenderCredentialsResealer(operator, CredentialCipher.fromConfig(during.config.security))),
          ring,
          options,
        ),
        await rotateEncryption(paced(new IdempotencyResponsesResealer(operator, ring)), ring, options),
      ];
    } finally {
      rotating = false;
      await traffic;
    }

    expect(failures).toEqual([]);
    expect(round).toBeGreaterThanOrEqual(2 * Math.ceil(ACCOUNTS / 4));
    expect(reports.map((r) => [r.name, r.resealed, r.remaining, r.remainingByKey])).toEqual([
      ['sender_credentials', ACCOUNTS, 0, {}],
      ['idempotency_responses', ACCOUNTS, 0, {}],
    ]);
    expect(await credentialKeyIds(during)).toEqual({ k2: ACCOUNTS + round });
    const bodiesNow = await during.query<{ response_body: Buffer }>(
      'SELECT response_body FROM idempotency_keys',
    );
    expect(bodiesNow).toHaveLength(ACCOUNTS + round);
    for (const { response_body } of bodiesNow) {
      expect(response_body.subarray(0, 4)).toEqual(Buffer.from([2, 2, ...Buffer.from('k2')]));
    }
    // The tenant's key, hashed with the pepper derived from k1, moved to k2's on its first use.
    expect(await keyHash(during, tenant.keyId)).not.toEqual(hashBefore);

    // k1 leaves the ring: every account still decrypts, every replay (legacy ones too) answers as first.
    const after = await start(ONLY_K2);
    await stop(during);
    const finalAccounts = after.app.get(SenderAccountsRepository, { strict: false });
    for (const [i, original] of originals.entries()) {
      const replay = await after.request<Account>('POST', '/v1/sender-accounts', {
        key: tenant.key,
        body: bodies[i],
        headers: { 'idempotency-key': `acct-${i}` },
      });
      expect([replay.status, replay.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
      expect(replay.body).toEqual(original);
      const sending = await finalAccounts.forSending(tenant.id, original.id);
      expect(sending?.config).toEqual(bodies[i]!.config);
    }
    for (const [n, body] of created.entries()) {
      const replay = await after.request<Account>('POST', '/v1/sender-accounts', {
        key: tenant.key,
        body,
        headers: { 'idempotency-key': `new-${n}` },
      });
      expect([replay.status, replay.headers.get('idempotent-replayed'), replay.body.name]).toEqual([
        201,
        'true',
        `new-${n}`,
      ]);
    }
  });
});

/**
 * API key peppers rotate like the encryption key: a key hashed with the old pepper still
 * authenticates under [new, old], is re-hashed with the new one on that use (once: no write per
 * request afterwards), and then works under [new] alone.
 */
describe('rotating the API key pepper', () => {
  const OLD = `old-pepper-${'o'.repeat(32)}`;
  const NEW = `new-pepper-${'n'.repeat(32)}`;
  const ENV = { API_KEY_CACHE_TTL_MS: '0', API_KEY_LAST_USED_FLUSH_MS: '3600000' };
  let database: TestDatabase;
  const apps: TestApi[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const api of apps) await api.close();
    await database.drop();
  });

  it('moves a key to the new pepper on use, with one guarded write, and refuses a key never used meanwhile', async () => {
    const start = async (env: Record<string, string>) => {
      const api = await TestApi.start({ ...ENV, ...env }, { database });
      apps.push(api);
      return api;
    };
    const before = await start({ API_KEY_PEPPER: OLD });
    const tenant = await before.createTenant('Peppered');
    const unused = await before.request<{ id: string; key: string }>('POST', '/v1/api-keys', {
      key: tenant.key,
      body: { name: 'never used during the rotation', scopes: ['read'] },
    });
    expect(unused.status).toBe(201);
    expect(await keyHash(before, tenant.keyId)).toEqual(hmac(OLD, tenant.key));

    const during = await start({ API_KEY_PEPPER: NEW, API_KEY_PREVIOUS_PEPPERS: OLD });
    const read = () => during.request('GET', '/v1/sender-accounts', { key: tenant.key });
    const [a, b] = await Promise.all([read(), read()]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(await keyHash(during, tenant.keyId)).toEqual(hmac(NEW, tenant.key));
    const version = await rowVersion(during, tenant.keyId);
    for (let i = 0; i < 5; i++) expect((await read()).status).toBe(200);
    expect(await rowVersion(during, tenant.keyId)).toBe(version);
    // A key created now is hashed with the new pepper at once.
    const fresh = await during.request<{ id: string; key: string }>('POST', '/v1/api-keys', {
      key: tenant.key,
      body: { name: 'made during the rotation', scopes: ['read'] },
    });
    expect(await keyHash(during, fresh.body.id)).toEqual(hmac(NEW, fresh.body.key));

    const after = await start({ API_KEY_PEPPER: NEW });
    expect((await after.request('GET', '/v1/sender-accounts', { key: tenant.key })).status).toBe(200);
    expect((await after.request('GET', '/v1/sender-accounts', { key: fresh.body.key })).status).toBe(200);
    // Never used while the old pepper was accepted: still on it, so refused once it is gone.
    expect((await after.request('GET', '/v1/sender-accounts', { key: unused.body.key })).status).toBe(401);
    expect((await during.request('GET', '/v1/sender-accounts', { key: unused.body.key })).status).toBe(200);
  });
});

function hmac(pepper: string, key: string): Buffer {
  return createHmac('sha256', pepper).update(key).digest();
}

async function keyHash(api: TestApi, keyId: string): Promise<Buffer> {
  const [row] = await api.query<{ secret_hash: Buffer }>('SELECT secret_hash FROM api_keys WHERE id = $1', [
    keyId,
  ]);
  return row!.secret_hash;
}

/** The row version Postgres gives each write (xmin): unchanged means nothing wrote the row. */
async function rowVersion(api: TestApi, keyId: string): Promise<string> {
  const [row] = await api.query<{ v: string }>('SELECT xmin::text AS v FROM api_keys WHERE id = $1', [keyId]);
  return row!.v;
}

async function credentialKeyIds(api: TestApi): Promise<Record<string, number>> {
  const rows = await api.query<{ id: string; n: number }>(
    `SELECT split_part(credentials, ':', 2) AS id, count(*)::int AS n FROM sender_accounts GROUP BY 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.id, r.n]));
}
