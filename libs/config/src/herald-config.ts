import { resolve as resolvePath } from 'node:path';
import { ENV_VARS, type EnvVar } from './env-spec';
import { KeyRing, KeyRingError, pepperRing, type PepperRing } from './key-ring';
import type { HostOverride } from './host-overrides';
import { Secret } from './secret';
import type { z } from 'zod';

type Vars = (typeof ENV_VARS)[number];
type Parsed = { [V in Vars as V['name']]: z.output<V['schema']> };

export type Role = 'api' | 'worker' | 'beat' | 'all';
export type QueueConcurrency = Readonly<{
  system: number;
  runs: number;
  deliveries: number;
  sourcing: number;
}>;

/** The whole process configuration: validated once at boot, typed, nested by lib. */
export interface HeraldConfig {
  readonly app: Readonly<{
    role: Role;
    env: Parsed['NODE_ENV'];
    version: string;
    /** The source commit of this build (`unknown` when the build did not say). */
    commit: string;
    shutdownGraceMs: number;
  }>;
  readonly http: Readonly<{
    port: number;
    opsPort: number;
    host: string;
    corsOrigins: readonly string[];
    bodyLimit: string;
    /** Express `trust proxy`: false, a hop count, or addresses, ranges and range names. */
    trustProxy: false | number | readonly string[];
    bodyIdleTimeoutMs: number;
  }>;
  readonly database: Readonly<{
    url: Secret;
    poolMax: number;
    statementTimeoutMs: number;
    idleInTransactionTimeoutMs: number;
  }>;
  readonly redis: Readonly<{
    url: Secret;
    prefix: string;
    /** Seed nodes (`host:port`) of a Redis Cluster; empty for a standalone Redis at `url`. */
    clusterNodes: readonly string[];
  }>;
  readonly telemetry: Readonly<{
    logLevel: Parsed['LOG_LEVEL'];
    logFormat: Parsed['LOG_FORMAT'];
    serviceName: string;
    readyTimeoutMs: number;
    heartbeatIntervalMs: number;
    heartbeatMaxAgeMs: number;
    readyRequireWorkers: boolean;
    tracing: TracingConfig;
  }>;
  readonly queues: Readonly<{
    concurrency: QueueConcurrency;
    consume: readonly string[];
    lockDurationMs: number;
    stalledIntervalMs: number;
  }>;
  readonly security: Readonly<{
    adminKey: Secret;
    /** HERALD_ENCRYPTION_KEY (current) and HERALD_ENCRYPTION_PREVIOUS_KEYS. */
    encryptionKeys: KeyRing;
  }>;
  readonly beat: Readonly<{
    leaseTtlMs: number;
    leaseRenewMs: number;
    sweepIntervalMs: number;
    tickIntervalMs: number;
    experimentsIntervalMs: number;
    /** The local hour on Monday from which a tenant's weekly report goes out. */
    weeklyReportHour: number;
    scheduleLateAfterMs: number;
    deliveryStallMs: number;
    analyticsFoldIntervalMs: number;
  }>;
  readonly delivery: Readonly<{
    /** Outbound connections may reach non-public addresses (OUTBOUND_ALLOW_PRIVATE_NETWORKS). */
    allowPrivateNetworks: boolean;
    /** OUTBOUND_HOST_OVERRIDES: fixed addresses for names, still vetted by the guard. */
    hostOverrides: readonly HostOverride[];
    webhookTimeoutMs: number;
    smtpTimeoutMs: number;
    sendLeaseMs: number;
    /** PUBLIC_BASE_URL without a trailing slash; empty: no unsubscribe or tracking links. */
    publicBaseUrl: string;
    /** Opens and clicks this soon after the send are machines (TRACKING_MACHINE_WINDOW_SECONDS). */
    trackingMachineWindowSeconds: number;
  }>;
  /** Qualifying leads: website assessment and enrichment. */
  readonly qualify: Readonly<{
    fetchConcurrency: number;
    assessmentTimeoutMs: number;
    assessmentMaxBytes: number;
    assessmentMaxRedirects: number;
    assessmentCacheTtlSeconds: number;
    enrichmentCacheTtlSeconds: number;
    enrichmentTimeoutMs: number;
  }>;
  readonly api: Readonly<{
    /** HMAC keys for stored API key hashes: API_KEY_PEPPER (or derived) and the earlier ones. */
    keyPeppers: PepperRing;
    keyCacheTtlMs: number;
    keyLastUsedFlushMs: number;
    /** perSecond 0 disables the per-key limit. */
    rateLimit: Readonly<{ perSecond: number; burst: number }>;
    /** Failed authentications allowed per window, per client address and per key prefix (0 disables one). */
    authFailures: Readonly<{ perAddress: number; perKeyPrefix: number; windowMs: number }>;
    idempotencyTtlSeconds: number;
    importBodyLimitBytes: number;
    importConcurrencyPerTenant: number;
    /** The public email routes' database work at once per replica, and how many more may wait. */
    publicRoutes: Readonly<{ dbConcurrency: number; queue: number }>;
    /** Arrays and objects nested deeper than this in a JSON body or import row are refused. */
    jsonMaxDepth: number;
    /** Console sessions (cookie sign-in) and one-time sign-in links. */
    sessions: Readonly<{
      cookieSecure: boolean;
      idleTimeoutSeconds: number;
      maxAgeSeconds: number;
      signInLinkTtlSeconds: number;
    }>;
    /** The built console's directory (absolute). */
    consoleDir: string;
    /** How far back a conversion or reply looks for the delivery it is attributed to. */
    conversionAttributionDays: number;
  }>;
  /** Provider webhooks (SendGrid, SES via SNS, Postmark, Mailgun) and the account health they feed. */
  readonly providerEvents: Readonly<{
    bodyLimitBytes: number;
    timestampToleranceSeconds: number;
    /** What a SigningCertURL's or SubscribeURL's origin must match in full. */
    snsAllowedOrigin: RegExp;
    snsCertCacheSeconds: number;
    health: Readonly<{ windowSeconds: number; minSample: number; bounceRate: number; complaintRate: number }>;
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
  if (problems.length === 0 && v.REDIS_CLUSTER_NODES.length > 0 && redisDatabase(v.REDIS_URL) !== 0) {
    problems.push(
      'REDIS_URL must name database 0 (or none) with REDIS_CLUSTER_NODES: a Redis Cluster has only database 0',
    );
  }
  if (
    problems.length === 0 &&
    v.PUBLIC_ROUTES_DB_CONCURRENCY !== '' &&
    v.PUBLIC_ROUTES_DB_CONCURRENCY >= v.DATABASE_POOL_MAX
  ) {
    problems.push(
      'PUBLIC_ROUTES_DB_CONCURRENCY must be below DATABASE_POOL_MAX so the public email routes always leave connections to the API',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  if (v.API_KEY_PEPPER && v.API_KEY_PREVIOUS_PEPPERS.includes(v.API_KEY_PEPPER)) {
    throw new ConfigError(['API_KEY_PREVIOUS_PEPPERS lists the current API_KEY_PEPPER']);
  }
  const encryptionKeys = keyRing(v.HERALD_ENCRYPTION_KEY, v.HERALD_ENCRYPTION_PREVIOUS_KEYS);
  const keyPeppers = pepperRing(v.API_KEY_PEPPER, v.API_KEY_PREVIOUS_PEPPERS, encryptionKeys);

  return {
    app: {
      role: options.role ?? 'all',
      env: v.NODE_ENV,
      version: options.version ?? '0.0.0',
      commit: v.HERALD_BUILD_COMMIT || 'unknown',
      shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
    },
    http: {
      port: v.PORT,
      opsPort: v.OPS_PORT,
      host: v.HOST,
      corsOrigins: v.CORS_ORIGINS,
      bodyLimit: v.BODY_LIMIT,
      bodyIdleTimeoutMs: v.HTTP_BODY_IDLE_TIMEOUT_MS,
      trustProxy: v.TRUST_PROXY,
    },
    database: {
      url: new Secret(v.DATABASE_URL),
      poolMax: v.DATABASE_POOL_MAX,
      statementTimeoutMs: v.DATABASE_STATEMENT_TIMEOUT_MS,
      idleInTransactionTimeoutMs: v.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
    redis: { url: new Secret(v.REDIS_URL), prefix: v.QUEUE_PREFIX, clusterNodes: v.REDIS_CLUSTER_NODES },
    telemetry: {
      logLevel: v.LOG_LEVEL,
      logFormat: v.LOG_FORMAT,
      serviceName: v.SERVICE_NAME,
      readyTimeoutMs: v.READY_TIMEOUT_MS,
      heartbeatIntervalMs: v.WORKER_HEARTBEAT_INTERVAL_MS,
      heartbeatMaxAgeMs: v.WORKER_HEARTBEAT_MAX_AGE_MS,
      readyRequireWorkers: v.READY_REQUIRE_WORKERS,
      tracing: tracingFrom(v),
    },
    queues: {
      concurrency: {
        system: v.QUEUE_CONCURRENCY_SYSTEM,
        runs: v.QUEUE_CONCURRENCY_RUNS,
        deliveries: v.QUEUE_CONCURRENCY_DELIVERIES,
        sourcing: v.QUEUE_CONCURRENCY_SOURCING,
      },
      consume: v.WORKER_QUEUES,
      lockDurationMs: v.QUEUE_LOCK_DURATION_MS,
      stalledIntervalMs: v.QUEUE_STALLED_INTERVAL_MS,
    },
    security: {
      adminKey: new Secret(v.HERALD_ADMIN_KEY),
      encryptionKeys,
    },
    beat: {
      leaseTtlMs: v.BEAT_LEASE_TTL_MS,
      leaseRenewMs: v.BEAT_LEASE_RENEW_MS,
      sweepIntervalMs: v.BEAT_SWEEP_INTERVAL_MS,
      tickIntervalMs: v.BEAT_TICK_INTERVAL_MS,
      experimentsIntervalMs: v.BEAT_EXPERIMENTS_INTERVAL_MS,
      weeklyReportHour: v.WEEKLY_REPORT_HOUR,
      scheduleLateAfterMs: v.SCHEDULE_LATE_AFTER_MS,
      deliveryStallMs: v.DELIVERY_STALL_MS,
      analyticsFoldIntervalMs: v.ANALYTICS_FOLD_INTERVAL_MS,
    },
    delivery: {
      allowPrivateNetworks: v.OUTBOUND_ALLOW_PRIVATE_NETWORKS,
      hostOverrides: v.OUTBOUND_HOST_OVERRIDES,
      webhookTimeoutMs: v.WEBHOOK_TIMEOUT_MS,
      smtpTimeoutMs: v.SMTP_TIMEOUT_MS,
      sendLeaseMs: v.DELIVERY_SEND_LEASE_MS,
      publicBaseUrl: v.PUBLIC_BASE_URL,
      trackingMachineWindowSeconds: v.TRACKING_MACHINE_WINDOW_SECONDS,
    },
    qualify: {
      fetchConcurrency: v.SOURCING_FETCH_CONCURRENCY,
      assessmentTimeoutMs: v.SOURCING_ASSESSMENT_TIMEOUT_MS,
      assessmentMaxBytes: v.SOURCING_ASSESSMENT_MAX_BYTES,
      assessmentMaxRedirects: v.SOURCING_ASSESSMENT_MAX_REDIRECTS,
      assessmentCacheTtlSeconds: v.SOURCING_ASSESSMENT_CACHE_TTL_SECONDS,
      enrichmentCacheTtlSeconds: v.SOURCING_ENRICHMENT_CACHE_TTL_SECONDS,
      enrichmentTimeoutMs: v.SOURCING_ENRICHMENT_TIMEOUT_MS,
    },
    api: {
      keyPeppers,
      keyCacheTtlMs: v.API_KEY_CACHE_TTL_MS,
      keyLastUsedFlushMs: v.API_KEY_LAST_USED_FLUSH_MS,
      rateLimit: { perSecond: v.API_RATE_LIMIT_PER_SECOND, burst: v.API_RATE_LIMIT_BURST },
      authFailures: {
        perAddress: v.AUTH_FAILURE_LIMIT_PER_ADDRESS,
        perKeyPrefix: v.AUTH_FAILURE_LIMIT_PER_KEY_PREFIX,
        windowMs: v.AUTH_FAILURE_WINDOW_MS,
      },
      idempotencyTtlSeconds: v.IDEMPOTENCY_TTL_SECONDS,
      importBodyLimitBytes: sizeInBytes(v.IMPORT_BODY_LIMIT),
      importConcurrencyPerTenant: v.API_IMPORT_CONCURRENCY_PER_TENANT,
      publicRoutes: {
        dbConcurrency:
          v.PUBLIC_ROUTES_DB_CONCURRENCY === ''
            ? Math.max(1, Math.floor(v.DATABASE_POOL_MAX / 4))
            : v.PUBLIC_ROUTES_DB_CONCURRENCY,
        queue: v.PUBLIC_ROUTES_QUEUE,
      },
      jsonMaxDepth: v.API_JSON_MAX_DEPTH,
      sessions: {
        cookieSecure:
          v.SESSION_COOKIE_SECURE === 'auto'
            ? v.NODE_ENV !== 'development' && v.NODE_ENV !== 'test'
            : v.SESSION_COOKIE_SECURE === 'true',
        idleTimeoutSeconds: v.SESSION_IDLE_TIMEOUT_SECONDS,
        maxAgeSeconds: v.SESSION_MAX_AGE_SECONDS,
        signInLinkTtlSeconds: v.SIGN_IN_LINK_TTL_SECONDS,
      },
      consoleDir: resolvePath(v.CONSOLE_DIST_DIR),
      conversionAttributionDays: v.CONVERSION_ATTRIBUTION_DAYS,
    },
    providerEvents: {
      bodyLimitBytes: sizeInBytes(v.PROVIDER_EVENTS_BODY_LIMIT),
      timestampToleranceSeconds: v.PROVIDER_EVENTS_TIMESTAMP_TOLERANCE_SECONDS,
      snsAllowedOrigin: new RegExp(v.SNS_ALLOWED_ORIGIN_PATTERN),
      snsCertCacheSeconds: v.SNS_CERT_CACHE_SECONDS,
      health: {
        windowSeconds: v.SENDER_HEALTH_WINDOW_SECONDS,
        minSample: v.SENDER_HEALTH_MIN_SAMPLE,
        bounceRate: v.SENDER_HEALTH_BOUNCE_RATE,
        complaintRate: v.SENDER_HEALTH_COMPLAINT_RATE,
      },
    },
  };
}

/** The ring of both encryption variables; ids and keys must not repeat across them. */
function keyRing(
  current: Parsed['HERALD_ENCRYPTION_KEY'],
  previous: Parsed['HERALD_ENCRYPTION_PREVIOUS_KEYS'],
) {
  try {
    return new KeyRing(current, previous);
  } catch (error) {
    if (!(error instanceof KeyRingError)) throw error;
    // Each entry was checked on its own already: what is left is a repetition across the two.
    throw new ConfigError([
      `HERALD_ENCRYPTION_PREVIOUS_KEYS ${error.message} (with HERALD_ENCRYPTION_KEY, ids and keys must be unique)`,
    ]);
  }
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

/** OpenTelemetry tracing; `endpoint` empty means off. */
export type TracingConfig = Readonly<{
  endpoint: string;
  serviceName: string;
  sampleRatio: number;
  exportDelayMs: number;
}>;

const TRACING_VARIABLES = new Set([
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_SERVICE_NAME',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_BSP_SCHEDULE_DELAY',
]);

function tracingFrom(
  v: Pick<
    Parsed,
    | 'OTEL_EXPORTER_OTLP_ENDPOINT'
    | 'OTEL_SERVICE_NAME'
    | 'OTEL_TRACES_SAMPLER_ARG'
    | 'OTEL_BSP_SCHEDULE_DELAY'
  >,
): TracingConfig {
  return {
    endpoint: v.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, ''),
    serviceName: v.OTEL_SERVICE_NAME,
    sampleRatio: v.OTEL_TRACES_SAMPLER_ARG,
    exportDelayMs: v.OTEL_BSP_SCHEDULE_DELAY,
  };
}

/**
 * Only the tracing variables: read before anything else loads (instrumentation must hook
 * http, pg and ioredis before they are required). Invalid values are reported by the full
 * config load a moment later; here they just leave tracing off.
 */
export function loadTracingConfig(env: Environment = process.env): TracingConfig | undefined {
  const { values, problems } = parseVariables(
    (ENV_VARS as readonly EnvVar[]).filter((v) => TRACING_VARIABLES.has(v.name)),
    env,
  );
  if (problems.length > 0) return undefined;
  return tracingFrom(values as Parsed);
}

/** Validates each variable on its own so one run reports every problem, not just the first. */
function parseVariables(
  variables: readonly EnvVar[],
  env: Environment,
): { values: Record<string, unknown>; problems: string[] } {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const variable of variables) {
    const { name, raw } = readVariable(variable, env);
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
      problems.push(`${name} ${result.error.issues.map((i) => i.message).join('; ')}${shown}`);
    }
  }
  return { values, problems };
}

/** The variable's value under its name, else under the first deprecated name set (which warns). */
function readVariable(variable: EnvVar, env: Environment): { name: string; raw: string | undefined } {
  const current = env[variable.name];
  for (const old of variable.deprecatedNames ?? []) {
    const raw = env[old];
    if (raw === undefined || raw === '') continue;
    const ignored = current !== undefined && current !== '';
    process.emitWarning(
      `${old} is deprecated${ignored ? ` and ignored (${variable.name} is set)` : ''}: use ${variable.name}`,
      { type: 'DeprecationWarning', code: 'HERALD_DEPRECATED_ENV' },
    );
    if (!ignored) return { name: old, raw };
  }
  return { name: variable.name, raw: current };
}

/** The database number in a redis:// URL's path (0 when absent). */
function redisDatabase(url: string): number {
  const path = new URL(url).pathname;
  return path.length > 1 ? Number(path.slice(1)) : 0;
}
