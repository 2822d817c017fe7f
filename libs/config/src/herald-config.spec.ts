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
    expect(config.security.encryptionKeyId).toBe('k7');
    expect(config.security.encryptionKey.reveal()).toHaveLength(32);
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
