import { decodeKey, ENV_VARS, type EnvVar } from './env-spec';
import { Secret } from './secret';
import { hkdfSync } from 'node:crypto';
import type { z } from 'zod';

type Vars = (typeof ENV_VARS)[number];
type Parsed = { [V in Vars as V['name']]: z.output<V['schema']> };

export type Role = 'api' | 'worker' | 'beat' | 'all';
export type QueueConcurrency = Readonly<{ system: number; runs: number; deliveries: number }>;

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
    bodyIdleTimeoutMs: number;
  }>;
  readonly database: Readonly<{
    url: Secret;
    poolMax: number;
    statementTimeoutMs: number;
    idleInTransactionTimeoutMs: number;
  }>;
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
  readonly queues: Readonly<{
    concurrency: QueueConcurrency;
    consume: readonly string[];
    lockDurationMs: number;
    stalledIntervalMs: number;
  }>;
  readonly security: Readonly<{ adminKey: Secret; encryptionKey: Secret<Buffer>; encryptionKeyId: string }>;
  readonly beat: Readonly<{
    leaseTtlMs: number;
    leaseRenewMs: number;
    sweepIntervalMs: number;
    tickIntervalMs: number;
    scheduleLateAfterMs: number;
    deliveryStallMs: number;
  }>;
  readonly delivery: Readonly<{
    webhookAllowPrivateNetworks: boolean;
    webhookTimeoutMs: number;
    smtpTimeoutMs: number;
    sendLeaseMs: number;
  }>;
  readonly api: Readonly<{
    /** HMAC key for stored API key hashes. */
    keyPepper: Secret<Buffer>;
    keyCacheTtlMs: number;
    keyLastUsedFlushMs: number;
    /** perSecond 0 disables the per-key limit. */
    rateLimit: Readonly<{ perSecond: number; burst: number }>;
    idempotencyTtlSeconds: number;
    importBodyLimitBytes: number;
    importConcurrencyPerTenant: number;
  }>;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** Reads and validates every variable; throws one ConfigError naming each bad variable and why. The role comes from the entry point. */
export function loadConfig(
  env: Environment = process.env,
  options: { role?: Role; version?: string } = {},
): HeraldConfig {
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
    app: {
      role: options.role ?? 'all',
      env: v.NODE_ENV,
      version: options.version ?? '0.0.0',
      shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
    },
    http: {
      port: v.PORT,
      opsPort: v.OPS_PORT,
      host: v.HOST,
      corsOrigins: v.CORS_ORIGINS,
      bodyLimit: v.BODY_LIMIT,
      bodyIdleTimeoutMs: v.HTTP_BODY_IDLE_TIMEOUT_MS,
    },
    database: {
      url: new Secret(v.DATABASE_URL),
      poolMax: v.DATABASE_POOL_MAX,
      statementTimeoutMs: v.DATABASE_STATEMENT_TIMEOUT_MS,
      idleInTransactionTimeoutMs: v.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
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
        runs: v.QUEUE_CONCURRENCY_RUNS,
        deliveries: v.QUEUE_CONCURRENCY_DELIVERIES,
      },
      consume: v.WORKER_QUEUES,
      lockDurationMs: v.QUEUE_LOCK_DURATION_MS,
      stalledIntervalMs: v.QUEUE_STALLED_INTERVAL_MS,
    },
    security: {
      adminKey: new Secret(v.HERALD_ADMIN_KEY),
      encryptionKey: new Secret(key),
      encryptionKeyId: keyId,
    },
    beat: {
      leaseTtlMs: v.BEAT_LEASE_TTL_MS,
      leaseRenewMs: v.BEAT_LEASE_RENEW_MS,
      sweepIntervalMs: v.BEAT_SWEEP_INTERVAL_MS,
      tickIntervalMs: v.BEAT_TICK_INTERVAL_MS,
      scheduleLateAfterMs: v.SCHEDULE_LATE_AFTER_MS,
      deliveryStallMs: v.DELIVERY_STALL_MS,
    },
    delivery: {
      webhookAllowPrivateNetworks: v.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      webhookTimeoutMs: v.WEBHOOK_TIMEOUT_MS,
      smtpTimeoutMs: v.SMTP_TIMEOUT_MS,
      sendLeaseMs: v.DELIVERY_SEND_LEASE_MS,
    },
    api: {
      keyPepper: new Secret(
        v.API_KEY_PEPPER
          ? Buffer.from(v.API_KEY_PEPPER, 'utf8')
          : Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'herald api key pepper v1', 32)),
      ),
      keyCacheTtlMs: v.API_KEY_CACHE_TTL_MS,
      keyLastUsedFlushMs: v.API_KEY_LAST_USED_FLUSH_MS,
      rateLimit: { perSecond: v.API_RATE_LIMIT_PER_SECOND, burst: v.API_RATE_LIMIT_BURST },
      idempotencyTtlSeconds: v.IDEMPOTENCY_TTL_SECONDS,
      importBodyLimitBytes: sizeInBytes(v.IMPORT_BODY_LIMIT),
      importConcurrencyPerTenant: v.API_IMPORT_CONCURRENCY_PER_TENANT,
    },
  };
}

/** `64mb` → 67108864 (the units body-parser understands: b, kb, mb, gb; powers of 1024). */
export function sizeInBytes(size: string): number {
  const match = /^(\d+)(b|kb|mb|gb)?$/i.exec(size.trim());
  if (!match) throw new RangeError(`not a size: ${size}`);
  const unit = (match[2] ?? 'b').toLowerCase();
  const factor = unit === 'gb' ? 1024 ** 3 : unit === 'mb' ? 1024 ** 2 : unit === 'kb' ? 1024 : 1;
  return Number(match[1]) * factor;
}

/** Only the Postgres variables: for tools (migrations) that need nothing else. */
export function loadDatabaseConfig(env: Environment = process.env): HeraldConfig['database'] {
  const names = new Set([
    'DATABASE_URL',
    'DATABASE_POOL_MAX',
    'DATABASE_STATEMENT_TIMEOUT_MS',
    'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS',
  ]);
  const { values, problems } = parseVariables(
    (ENV_VARS as readonly EnvVar[]).filter((v) => names.has(v.name)),
    env,
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    url: new Secret(values.DATABASE_URL as string),
    poolMax: values.DATABASE_POOL_MAX as number,
    statementTimeoutMs: values.DATABASE_STATEMENT_TIMEOUT_MS as number,
    idleInTransactionTimeoutMs: values.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS as number,
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
