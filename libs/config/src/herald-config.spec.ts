import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError, loadConfig, loadDatabaseConfig } from './herald-config';
import { renderConfigurationMarkdown, renderEnvExample } from './docs';

const valid = {
  HERALD_ADMIN_KEY: 'x'.repeat(40),
  HERALD_ENCRYPTION_KEY: `k7:${'0f'.repeat(32)}`,
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('builds a typed, nested config with defaults', () => {
    const config = loadConfig({
      ...valid,
      PORT: '8080',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      LOG_FORMAT: 'pretty',
    });
    expect(config.http.port).toBe(8080);
    expect(config.http.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.telemetry.logFormat).toBe('pretty');
    expect(config.queues.concurrency.system).toBe(4);
    expect(config.security.encryptionKeys.current.id).toBe('k7');
    expect(config.security.encryptionKeys.current.key.reveal()).toEqual(Buffer.from('0f'.repeat(32), 'hex'));
    expect(config.security.encryptionKeys.previous).toEqual([]);
    expect(config.redis.prefix).toBe('herald');
  });

  it('names every bad variable and why, in one error', () => {
    const problems = problemsOf({
      HERALD_ENCRYPTION_KEY: 'short',
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      REDIS_URL: 'http://x',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^HERALD_ADMIN_KEY is required/),
        expect.stringMatching(/^HERALD_ENCRYPTION_KEY must be 32 bytes/),
        expect.stringMatching(/^PORT .*"eighty"/),
        expect.stringMatching(/^LOG_LEVEL .*"loud"/),
        expect.stringMatching(/^REDIS_URL must be a URL with scheme redis:\/\/ or rediss:\/\//),
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it('reads REDIS_CLUSTER_NODES as seed nodes (none: standalone) and refuses a bad node or a database other than 0', () => {
    expect(loadConfig(valid).redis.clusterNodes).toEqual([]);
    expect(
      loadConfig({ ...valid, REDIS_CLUSTER_NODES: ' 10.0.0.1:6379, redis-b.internal:7000 ,[::1]:7001' }).redis
        .clusterNodes,
    ).toEqual(['10.0.0.1:6379', 'redis-b.internal:7000', '[::1]:7001']);
    expect(problemsOf({ ...valid, REDIS_CLUSTER_NODES: '10.0.0.1' })).toEqual([
      expect.stringMatching(/^REDIS_CLUSTER_NODES .*host:port/),
    ]);
    expect(
      problemsOf({
        ...valid,
        REDIS_CLUSTER_NODES: '10.0.0.1:6379',
        REDIS_URL: 'redis://:pw@10.0.0.1:6379/2',
      }),
    ).toEqual([expect.stringMatching(/^REDIS_URL must name database 0/)]);
  });

  it('never echoes a secret value in its messages', () => {
    const problems = problemsOf({ ...valid, DATABASE_URL: 'mysql://user:hunter2@db/x' });
    expect(problems.join('\n')).toContain('DATABASE_URL');
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('rejects a lease renewal too slow for its TTL', () => {
    expect(problemsOf({ ...valid, BEAT_LEASE_TTL_MS: '4000', BEAT_LEASE_RENEW_MS: '3000' })).toEqual([
      expect.stringContaining('BEAT_LEASE_RENEW_MS must be at most half of BEAT_LEASE_TTL_MS'),
    ]);
  });

  it('gives the public email routes a quarter of the pool by default, and never all of it', () => {
    expect(loadConfig(valid).api.publicRoutes).toEqual({ dbConcurrency: 2, queue: 1000 });
    expect(loadConfig({ ...valid, DATABASE_POOL_MAX: '3' }).api.publicRoutes.dbConcurrency).toBe(1);
    expect(loadConfig({ ...valid, DATABASE_POOL_MAX: '40' }).api.publicRoutes.dbConcurrency).toBe(10);
    expect(
      loadConfig({ ...valid, DATABASE_POOL_MAX: '4', PUBLIC_ROUTES_DB_CONCURRENCY: '3' }).api.publicRoutes,
    ).toEqual({ dbConcurrency: 3, queue: 1000 });
    expect(problemsOf({ ...valid, DATABASE_POOL_MAX: '4', PUBLIC_ROUTES_DB_CONCURRENCY: '4' })).toEqual([
      expect.stringContaining('PUBLIC_ROUTES_DB_CONCURRENCY must be below DATABASE_POOL_MAX'),
    ]);
    expect(problemsOf({ ...valid, PUBLIC_ROUTES_QUEUE: '0' })).toEqual([
      expect.stringMatching(/^PUBLIC_ROUTES_QUEUE /),
    ]);
  });

  it('limits failed authentications by default and trusts only private-network proxies', () => {
    const config = loadConfig(valid);
    expect(config.api.authFailures).toEqual({ perAddress: 20, perKeyPrefix: 10, windowMs: 60_000 });
    expect(config.http.trustProxy).toEqual(['loopback', 'linklocal', 'uniquelocal']);
  });

  it.each([
    ['false', false],
    ['1', 1],
    [
      ' 10.0.0.0/8, 2001:db8::/32 ,192.0.2.7, loopback',
      ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7', 'loopback'],
    ],
  ])('reads TRUST_PROXY=%j', (value, expected) => {
    expect(loadConfig({ ...valid, TRUST_PROXY: value }).http.trustProxy).toEqual(expected);
  });

  it.each(['true', '10.0.0.0/33', 'proxy.internal', '10.0.0.1/8/1', ','])(
    'refuses TRUST_PROXY=%j, naming why',
    (value) => {
      expect(problemsOf({ ...valid, TRUST_PROXY: value })).toEqual([
        expect.stringMatching(/^TRUST_PROXY must be false, a hop count, or addresses.*not true/),
      ]);
    },
  );

  it('keeps secrets out of logs and JSON', () => {
    const config = loadConfig({ ...valid, DATABASE_URL: 'postgres://u:hunter2@db:5432/x' });
    const printed = [JSON.stringify(config), inspect(config, { depth: 5 }), String(config.database.url)].join(
      '\n',
    );
    expect(printed).not.toContain('hunter2');
    expect(printed).not.toContain(valid.HERALD_ADMIN_KEY);
    expect(config.database.url.reveal()).toBe('postgres://u:hunter2@db:5432/x');
  });

  describe('the encryption key ring', () => {
    const hex = (byte: string) => byte.repeat(32);
    const base64 = Buffer.alloc(32, 7).toString('base64');

    it('keeps a single key working as it was: a bare key has the id "default"', () => {
      const ring = loadConfig({ ...valid, HERALD_ENCRYPTION_KEY: hex('ab') }).security.encryptionKeys;
      expect(ring.current.id).toBe('default');
      expect(ring.current.key.reveal()).toEqual(Buffer.from(hex('ab'), 'hex'));
    });

    it('adds the previous keys, hex or base64, with or without an id', () => {
      const ring = loadConfig({
        ...valid,
        HERALD_ENCRYPTION_KEY: `k2:${hex('01')}`,
        HERALD_ENCRYPTION_PREVIOUS_KEYS: ` k1:${base64} , ${hex('02')},`,
      }).security.encryptionKeys;
      expect(ring.keys.map((k) => k.id)).toEqual(['k2', 'k1', 'default']);
      expect(ring.find('k1')!.key.reveal()).toEqual(Buffer.alloc(32, 7));
      expect(ring.find('default')!.key.reveal()).toEqual(Buffer.from(hex('02'), 'hex'));
    });

    it('refuses a malformed, short or repeated entry, naming the variable and never the key', () => {
      const secret = hex('ee');
      expect(
        problemsOf({ ...valid, HERALD_ENCRYPTION_PREVIOUS_KEYS: `k1:${secret.slice(2)},bad id:${secret}` }),
      ).toEqual([
        'HERALD_ENCRYPTION_PREVIOUS_KEYS entry 1 (key k1) must be 32 bytes as 64 hex characters or base64, optionally prefixed with "<key id>:"; entry 2 has a key id that is not 1-64 letters, digits, _ or -',
      ]);
      expect(problemsOf({ ...valid, HERALD_ENCRYPTION_KEY: `k1:${secret}=` })).toEqual([
        expect.stringMatching(/^HERALD_ENCRYPTION_KEY \(key k1\) must be 32 bytes/),
      ]);
      const repeated = problemsOf({
        ...valid,
        HERALD_ENCRYPTION_KEY: `k7:${secret}`,
        HERALD_ENCRYPTION_PREVIOUS_KEYS: `k1:${hex('01')},k7:${hex('02')}`,
      });
      expect(repeated).toEqual([
        'HERALD_ENCRYPTION_PREVIOUS_KEYS lists key id "k7" twice (with HERALD_ENCRYPTION_KEY, ids and keys must be unique)',
      ]);
      const twin = problemsOf({
        ...valid,
        HERALD_ENCRYPTION_KEY: `k2:${secret}`,
        HERALD_ENCRYPTION_PREVIOUS_KEYS: `k1:${secret}`,
      });
      expect(twin).toEqual([expect.stringContaining('holds one key under two ids ("k2" and "k1")')]);
      expect(
        problemsOf({ ...valid, HERALD_ENCRYPTION_KEY: secret, HERALD_ENCRYPTION_PREVIOUS_KEYS: hex('01') }),
      ).toEqual([expect.stringContaining('lists key id "default" twice')]);
      expect(JSON.stringify([repeated, twin])).not.toContain(secret);
    });

    it('prints as its key ids only', () => {
      const config = loadConfig({ ...valid, HERALD_ENCRYPTION_PREVIOUS_KEYS: `k1:${hex('01')}` });
      const printed = [JSON.stringify(config), inspect(config, { depth: 6 })].join('\n');
      expect(printed).toContain('KeyRing(current k7, k1)');
      expect(printed).not.toContain(hex('01'));
      expect(printed).not.toContain(valid.HERALD_ENCRYPTION_KEY.slice(3));
    });
  });

  describe('the API key pepper ring', () => {
    const pepper = (c: string) => c.repeat(40);

    it('derives the current pepper from the current encryption key when API_KEY_PEPPER is empty, and accepts those of the previous keys', () => {
      const before = loadConfig({ ...valid, HERALD_ENCRYPTION_KEY: `k1:${'01'.repeat(32)}` }).api.keyPeppers;
      expect(before.derived).toBe(true);
      expect(before.previous).toEqual([]);
      const rotated = loadConfig({
        ...valid,
        HERALD_ENCRYPTION_KEY: `k2:${'02'.repeat(32)}`,
        HERALD_ENCRYPTION_PREVIOUS_KEYS: `k1:${'01'.repeat(32)}`,
      }).api.keyPeppers;
      expect(rotated.current.reveal()).not.toEqual(before.current.reveal());
      expect(rotated.previous.map((p) => p.reveal())).toEqual([before.current.reveal()]);
    });

    it('puts API_KEY_PEPPER first, then API_KEY_PREVIOUS_PEPPERS, then the derived ones', () => {
      const derived = loadConfig(valid).api.keyPeppers.current.reveal();
      const ring = loadConfig({
        ...valid,
        API_KEY_PEPPER: pepper('n'),
        API_KEY_PREVIOUS_PEPPERS: `${pepper('o')}, ${pepper('p')}`,
      }).api.keyPeppers;
      expect(ring.derived).toBe(false);
      expect(ring.current.reveal().toString()).toBe(pepper('n'));
      expect(ring.previous.map((p) => p.reveal())).toEqual([
        Buffer.from(pepper('o')),
        Buffer.from(pepper('p')),
        derived,
      ]);
    });

    it('refuses a short or repeated pepper without showing it', () => {
      const problems = [
        ...problemsOf({ ...valid, API_KEY_PREVIOUS_PEPPERS: `${pepper('o')},tooshort-secret` }),
        ...problemsOf({ ...valid, API_KEY_PEPPER: pepper('n'), API_KEY_PREVIOUS_PEPPERS: pepper('n') }),
      ];
      expect(problems).toEqual([
        'API_KEY_PREVIOUS_PEPPERS each entry must be at least 32 characters',
        'API_KEY_PREVIOUS_PEPPERS lists the current API_KEY_PEPPER',
      ]);
      expect(problems.join()).not.toContain('tooshort-secret');
    });
  });

  describe('OUTBOUND_HOST_OVERRIDES', () => {
    it('defaults to none and parses name=ip entries', () => {
      expect(loadConfig(valid).delivery.hostOverrides).toEqual([]);
      expect(
        loadConfig({ ...valid, OUTBOUND_HOST_OVERRIDES: '*.sites.test=127.0.0.1' }).delivery.hostOverrides,
      ).toEqual([{ pattern: '*.sites.test', address: '127.0.0.1', family: 4 }]);
    });

    it('refuses a malformed entry naming it', () => {
      expect(problemsOf({ ...valid, OUTBOUND_HOST_OVERRIDES: 'sites.test=nowhere' })).toEqual([
        'OUTBOUND_HOST_OVERRIDES "sites.test=nowhere" is not name=ip or *.suffix=ip (got "sites.test=nowhere")',
      ]);
    });
  });

  describe('OUTBOUND_ALLOW_PRIVATE_NETWORKS and its deprecated name WEBHOOK_ALLOW_PRIVATE_NETWORKS', () => {
    /** The switch's value and the deprecation warnings loadConfig emitted (Node's emitWarning, observed). */
    function warningsOf(env: Record<string, string>): { allow: boolean; warnings: string[] } {
      const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      try {
        const allow = loadConfig({ ...valid, ...env }).delivery.allowPrivateNetworks;
        const warnings = emitWarning.mock.calls
          .filter(([, options]) => options?.code === 'HERALD_DEPRECATED_ENV')
          .map(([warning]) => String(warning));
        return { allow, warnings };
      } finally {
        emitWarning.mockRestore();
      }
    }

    it('defaults to false and reads the new name without a warning', () => {
      expect(warningsOf({})).toEqual({ allow: false, warnings: [] });
      expect(warningsOf({ OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true' })).toEqual({
        allow: true,
        warnings: [],
      });
    });

    it('still reads the deprecated name when the new one is unset, and warns', () => {
      expect(warningsOf({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' })).toEqual({
        allow: true,
        warnings: ['WEBHOOK_ALLOW_PRIVATE_NETWORKS is deprecated: use OUTBOUND_ALLOW_PRIVATE_NETWORKS'],
      });
      expect(warningsOf({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1' }).allow).toBe(true);
    });

    it('lets the new name win when both are set, warning that the old one is ignored', () => {
      expect(
        warningsOf({
          OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'false',
          WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
        }),
      ).toEqual({
        allow: false,
        warnings: [
          'WEBHOOK_ALLOW_PRIVATE_NETWORKS is deprecated and ignored (OUTBOUND_ALLOW_PRIVATE_NETWORKS is set): use OUTBOUND_ALLOW_PRIVATE_NETWORKS',
        ],
      });
    });

    it('names the variable actually set when its value is bad', () => {
      expect(problemsOf({ ...valid, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'yes' })).toEqual([
        expect.stringMatching(/^WEBHOOK_ALLOW_PRIVATE_NETWORKS .*"yes"/),
      ]);
      expect(problemsOf({ ...valid, OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'yes' })).toEqual([
        expect.stringMatching(/^OUTBOUND_ALLOW_PRIVATE_NETWORKS .*"yes"/),
      ]);
    });
  });

  it('loads only the database variables for tools that need nothing else', () => {
    expect(loadDatabaseConfig({ DATABASE_POOL_MAX: '3' }).poolMax).toBe(3);
    expect(() => loadDatabaseConfig({ DATABASE_URL: 'nope' })).toThrow(ConfigError);
  });
});

describe('generated configuration docs', () => {
  const root = join(__dirname, '../../..');
  it.each([
    ['.env.example', renderEnvExample],
    ['docs/configuration.md', renderConfigurationMarkdown],
  ])('%s matches the schema (run `npm run config:docs` after changing env-spec.ts)', (file, render) => {
    expect(readFileSync(join(root, file), 'utf8')).toBe(render());
  });
});
