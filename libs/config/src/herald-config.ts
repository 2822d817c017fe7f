import { decodeKey, ENV_VARS, type EnvVar } from './env-spec';
import { Secret } from './secret';
import type { z } from 'zod';

type Vars = (typeof ENV_VARS)[number];
type Parsed = { [V in Vars as V['name']]: z.output<V['schema']> };

export type Role = Parsed['ROLE'];
export type QueueConcurrency = Readonly<{ system: number }>;

/** The whole process configuration: validated once at boot, typed, nested by lib. */
export interface HeraldConfig {
  readonly app: Readonly<{
    role: Role;
    env: Parsed['NODE_ENV'];
    version: string;
    shutdownGraceMs: number;
  }>;
  readonly http: Readonly<{
    port: number;
    opsPort: number;
    host: string;
    corsOrigins: readonly string[];
    bodyLimit: string;
  }>;
  readonly database: Readonly<{ url: Secret; poolMax: number; statementTimeoutMs: number }>;
  readonly redis: Readonly<{ url: Secret; prefix: string }>;
  readonly telemetry: Readonly<{
    logLevel: Parsed['LOG_LEVEL'];
    logFormat: Parsed['LOG_FORMAT'];
    serviceName: string;
    readyTimeoutMs: number;
    heartbeatIntervalMs: number;
    heartbeatMaxAgeMs: number;
    readyRequireWorkers: boolean;
  }>;
  readonly queues: Readonly<{ concurrency: QueueConcurrency; consume: readonly string[] }>;
  readonly security: Readonly<{ adminKey: Secret; encryptionKey: Secret<Buffer>; encryptionKeyId: string }>;
  readonly beat: Readonly<{ leaseTtlMs: number; leaseRenewMs: number }>;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** Reads and validates every variable; throws one ConfigError naming each bad variable and why. */
export function loadConfig(env: Environment = process.env, version = '0.0.0'): HeraldConfig {
  const { values, problems } = parseVariables(ENV_VARS, env);
  const v = values as Parsed;
  if (problems.length === 0 && v.BEAT_LEASE_RENEW_MS * 2 > v.BEAT_LEASE_TTL_MS) {
    problems.push(
      'BEAT_LEASE_RENEW_MS must be at most half of BEAT_LEASE_TTL_MS so a renewal can fail once and still hold',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const [keyId, keyMaterial] = v.HERALD_ENCRYPTION_KEY.includes(':')
    ? [
        v.HERALD_ENCRYPTION_KEY.slice(0, v.HERALD_ENCRYPTION_KEY.indexOf(':')),
        v.HERALD_ENCRYPTION_KEY.slice(v.HERALD_ENCRYPTION_KEY.indexOf(':') + 1),
      ]
    : ['default', v.HERALD_ENCRYPTION_KEY];
  const key = decodeKey(keyMaterial);
  if (!key) throw new ConfigError(['HERALD_ENCRYPTION_KEY could not be decoded']);

  return {
    app: { role: v.ROLE, env: v.NODE_ENV, version, shutdownGraceMs: v.SHUTDOWN_GRACE_MS },
    http: {
      port: v.PORT,
      opsPort: v.OPS_PORT,
      host: v.HOST,
      corsOrigins: v.CORS_ORIGINS,
      bodyLimit: v.BODY_LIMIT,
    },
    database: {
      url: new Secret(v.DATABASE_URL),
      poolMax: v.DATABASE_POOL_MAX,
      statementTimeoutMs: v.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    redis: { url: new Secret(v.REDIS_URL), prefix: v.QUEUE_PREFIX },
    telemetry: {
      logLevel: v.LOG_LEVEL,
      logFormat: v.LOG_FORMAT,
      serviceName: v.SERVICE_NAME,
      readyTimeoutMs: v.READY_TIMEOUT_MS,
      heartbeatIntervalMs: v.WORKER_HEARTBEAT_INTERVAL_MS,
      heartbeatMaxAgeMs: v.WORKER_HEARTBEAT_MAX_AGE_MS,
      readyRequireWorkers: v.READY_REQUIRE_WORKERS,
    },
    queues: {
      concurrency: {
        system: v.QUEUE_CONCURRENCY_SYSTEM,
      },
      consume: v.WORKER_QUEUES,
    },
    security: {
      adminKey: new Secret(v.HERALD_ADMIN_KEY),
      encryptionKey: new Secret(key),
      encryptionKeyId: keyId,
    },
    beat: { leaseTtlMs: v.BEAT_LEASE_TTL_MS, leaseRenewMs: v.BEAT_LEASE_RENEW_MS },
  };
}

/** Only the Postgres variables: for tools (migrations) that need nothing else. */
export function loadDatabaseConfig(env: Environment = process.env): HeraldConfig['database'] {
  const names = new Set(['DATABASE_URL', 'DATABASE_POOL_MAX', 'DATABASE_STATEMENT_TIMEOUT_MS']);
  const { values, problems } = parseVariables(
    (ENV_VARS as readonly EnvVar[]).filter((v) => names.has(v.name)),
    env,
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    url: new Secret(values.DATABASE_URL as string),
    poolMax: values.DATABASE_POOL_MAX as number,
    statementTimeoutMs: values.DATABASE_STATEMENT_TIMEOUT_MS as number,
  };
}

/** Validates each variable on its own so one run reports every problem, not just the first. */
function parseVariables(
  variables: readonly EnvVar[],
  env: Environment,
): { values: Record<string, unknown>; problems: string[] } {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const variable of variables) {
    const raw = env[variable.name];
    const input = raw === undefined || raw === '' ? variable.default : raw;
    if (input === undefined) {
      problems.push(`${variable.name} is required: ${variable.description}`);
      continue;
    }
    const result = variable.schema.safeParse(input);
    if (result.success) {
      values[variable.name] = result.data;
    } else {
      const shown = variable.secret ? '' : ` (got ${JSON.stringify(input)})`;
      problems.push(`${variable.name} ${result.error.issues.map((i) => i.message).join('; ')}${shown}`);
    }
  }
  return { values, problems };
}
