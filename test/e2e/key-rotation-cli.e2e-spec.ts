import { CredentialCipher } from '@herald/channels';
import { ByteSealer, KEY_PURPOSES, KeyRing, Secret } from '@herald/config';
import { webhookContext } from '@herald/provider-events';
import { sourceCredentialsContext } from '@herald/sourcing';
import { createTestDatabase, seedBroadcast, testEnvironment, type TestDatabase } from '@herald/testing';
import { spawn } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';

jest.setTimeout(90_000);

const CLI = join(__dirname, '../../dist/apps/cli/src/main.js');
const K1 = randomBytes(32);
const K2 = randomBytes(32);
const K3 = randomBytes(32);
const entry = (id: string, key: Buffer) => `${id}:${key.toString('hex')}`;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function herald(args: readonly string[], env: Record<string, string>): Promise<Result> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

function expectExit(result: Result, code: number): void {
  if (result.code !== code) {
    throw new Error(
      `exit ${result.code}, expected ${code}\n--- stdout:\n${result.stdout}\n--- stderr:\n${result.stderr}`,
    );
  }
}

type Report = {
  dry_run: boolean;
  current_key: string;
  previous_keys: string[];
  data: {
    name: string;
    total: number;
    resealed: number;
    remaining: number;
    remaining_by_key: Record<string, number>;
    unreadable: number;
  }[];
  remaining: number;
  unreadable: number;
};

/** A stored response as the api sealed it before key ids were recorded. */
function legacySeal(encryptionKey: Buffer, plain: string): Buffer {
  const key = createHash('sha256').update('herald idempotency v1').update(encryptionKey).digest();
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([1]), iv, cipher.getAuthTag(), data]);
}

/**
 * `herald keys rotate-encryption` as an operator runs it, a real process on the fleet's
 * environment: a dry run counts, a run re-seals and says the old key can go, a ring missing a
 * key that sealed something exits 1, a malformed ring exits 2 naming the variable.
 */
describe('herald keys rotate-encryption', () => {
  let db: TestDatabase;
  let client: Client;
  const env = (ring: Record<string, string>) =>
    testEnvironment({ DATABASE_URL: db.url, LOG_LEVEL: 'silent', ...ring });

  beforeAll(async () => {
    db = await createTestDatabase();
    const k1Only = env({ HERALD_ENCRYPTION_KEY: entry('k1', K1) });
    const seeded = [];
    for (let i = 0; i < 3; i++) {
      seeded.push(await seedBroadcast({ databaseUrl: db.url, env: k1Only, contacts: 0 }));
    }
    client = new Client({ connectionString: db.url });
    await client.connect();
    const sealer = new ByteSealer(
      new KeyRing({ id: 'k1', key: new Secret(K1) }).derive(KEY_PURPOSES.idempotencyResponses),
    );
    const tenant = seeded[0]!.tenantId;
    const insert = (key: string, body: Buffer, expiresIn: string) =>
      client.query(
        `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, response_status, response_body, expires_at)
         VALUES ($1, $2, 'f', 201, $3, now() + $4::interval)`,
        [tenant, key, body, expiresIn],
      );
    // One account's provider webhook verification, sealed like its credentials.
    const account = seeded[0]!.accountId;
    const cipher = CredentialCipher.fromConfig({
      encryptionKeys: new KeyRing({ id: 'k1', key: new Secret(K1) }),
    });
    await client.query(
      `UPDATE sender_accounts SET provider_webhook = $3, provider_webhook_provider = 'mailgun' WHERE tenant_id = $1 AND id = $2`,
      [
        tenant,
        account,
        cipher.encryptJson(
          { provider: 'mailgun', signing_key: 'mailgun-signing-key-000000' },
          webhookContext(tenant, account),
        ),
      ],
    );
    // One source account (a directory's API key), sealed the same way.
    const source = '0190f5e4-5555-7c3d-8e4f-5a6b7c8d9e0f';
    await client.query(
      `INSERT INTO source_accounts (tenant_id, id, name, kind, credentials, time_zone)
       VALUES ($1, $2, 'directory', 'http-directory', $3, 'UTC')`,
      [
        tenant,
        source,
        cipher.encryptJson(
          { base_url: 'https://directory.example/search', api_key: 'directory-key-0000' },
          sourceCredentialsContext(tenant, source),
        ),
      ],
    );
    await insert('with-id', sealer.seal('{"id":"a"}'), '1 hour');
    await insert('legacy', legacySeal(K1, '{"id":"b"}'), '1 hour');
    // Expired: never replayed again, so neither counted nor re-sealed.
    await insert('expired', sealer.seal('{"id":"c"}'), '-1 hour');
  });
  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  const credentialIds = async () =>
    (
      await client.query<{ id: string }>(
        `SELECT split_part(credentials, ':', 2) AS id FROM sender_accounts ORDER BY 1`,
      )
    ).rows.map((r) => r.id);

  it('counts (--dry-run), re-seals with the current key, then finds nothing left once the old key is gone', async () => {
    const rotating = env({
      HERALD_ENCRYPTION_KEY: entry('k2', K2),
      HERALD_ENCRYPTION_PREVIOUS_KEYS: entry('k1', K1),
    });
    const dry = await herald(['keys', 'rotate-encryption', '--dry-run', '--json'], rotating);
    expectExit(dry, 0);
    expect(JSON.parse(dry.stdout)).toEqual({
      dry_run: true,
      current_key: 'k2',
      previous_keys: ['k1'],
      data: [
        {
          name: 'sender_credentials',
          total: 3,
          resealed: 0,
          remaining: 3,
          remaining_by_key: { k1: 3 },
          unreadable: 0,
        },
        {
          name: 'provider_webhooks',
          total: 1,
          resealed: 0,
          remaining: 1,
          remaining_by_key: { k1: 1 },
          unreadable: 0,
        },
        {
          name: 'source_credentials',
          total: 1,
          resealed: 0,
          remaining: 1,
          remaining_by_key: { k1: 1 },
          unreadable: 0,
        },
        {
          name: 'idempotency_responses',
          total: 2,
          resealed: 0,
          remaining: 2,
          remaining_by_key: { k1: 1, '(none)': 1 },
          unreadable: 0,
        },
      ],
      remaining: 7,
      unreadable: 0,
    } satisfies Report);
    expect(await credentialIds()).toEqual(['k1', 'k1', 'k1']);

    const run = await herald(['keys', 'rotate-encryption', '--batch-size', '2'], rotating);
    expectExit(run, 0);
    expect(run.stdout).toMatch(/^sender_credentials\s+k2\s+3\s+3\s+0\s+-$/m);
    expect(run.stdout).toMatch(/^provider_webhooks\s+k2\s+1\s+1\s+0\s+-$/m);
    expect(run.stdout).toMatch(/^source_credentials\s+k2\s+1\s+1\s+0\s+-$/m);
    expect(run.stdout).toMatch(/^idempotency_responses\s+k2\s+2\s+2\s+0\s+-$/m);
    expect(run.stdout).toContain(
      'everything is sealed with k2: k1 can leave HERALD_ENCRYPTION_PREVIOUS_KEYS',
    );
    expect(run.stderr).toContain('sender_credentials [########################] 100%  re-sealed 3 of 3');
    expect(run.stderr).toContain('API_KEY_PEPPER is not set');
    expect(`${run.stdout}${run.stderr}`).not.toContain(K1.toString('hex'));
    expect(await credentialIds()).toEqual(['k2', 'k2', 'k2']);

    const afterwards = await herald(
      ['keys', 'rotate-encryption', '--dry-run', '--json'],
      env({ HERALD_ENCRYPTION_KEY: entry('k2', K2) }),
    );
    expectExit(afterwards, 0);
    expect((JSON.parse(afterwards.stdout) as Report).remaining).toBe(0);
  });

  it('exits 1 when values name a key the ring lacks, and 2 for a malformed ring, naming the variable', async () => {
    const lacking = await herald(
      ['keys', 'rotate-encryption', '--json'],
      env({ HERALD_ENCRYPTION_KEY: entry('k3', K3) }),
    );
    expectExit(lacking, 1);
    const report = JSON.parse(lacking.stdout) as Report;
    expect([report.remaining, report.unreadable]).toEqual([7, 7]);
    expect(report.data.map((d) => d.remaining_by_key)).toEqual([{ k2: 3 }, { k2: 1 }, { k2: 1 }, { k2: 2 }]);
    expect(await credentialIds()).toEqual(['k2', 'k2', 'k2']);

    const short = K1.toString('hex').slice(0, 40);
    const malformed = await herald(
      ['keys', 'rotate-encryption'],
      env({ HERALD_ENCRYPTION_KEY: entry('k2', K2), HERALD_ENCRYPTION_PREVIOUS_KEYS: `k1:${short}` }),
    );
    expectExit(malformed, 2);
    expect(malformed.stderr).toContain('HERALD_ENCRYPTION_PREVIOUS_KEYS entry 1 (key k1) must be 32 bytes');
    expect(malformed.stderr).not.toContain(short);
    expect(malformed.stdout).toBe('');
  });
});
