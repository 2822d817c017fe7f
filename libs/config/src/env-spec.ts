import { isIP } from 'node:net';
import { z } from 'zod';
import { parseHostOverrides } from './host-overrides';
import { parseRingKey, type RingKey } from './key-ring';

/**
 * One entry per environment variable. Each lib owns a section; the config lib is the only
 * code that reads `process.env`, and the docs (.env.example, docs/configuration.md) are
 * generated from this table so they cannot drift from what the code accepts.
 */
export interface EnvVar {
  readonly name: string;
  readonly section: ConfigSection;
  readonly description: string;
  readonly schema: z.ZodType;
  /** Value used when unset; also written to `.env.example`. Omit for required variables. */
  readonly default?: string;
  /** Secrets are redacted from logs and written blank in `.env.example`. */
  readonly secret?: boolean;
  /** Example value for the docs when there is no default. */
  readonly example?: string;
  /** Former names, still read (first set wins) when this one is unset; each use warns. */
  readonly deprecatedNames?: readonly string[];
}

export type ConfigSection =
  | 'app'
  | 'http'
  | 'database'
  | 'redis'
  | 'telemetry'
  | 'queues'
  | 'security'
  | 'beat'
  | 'api'
  | 'delivery'
  | 'sourcing';

export const SECTION_TITLES: Record<ConfigSection, string> = {
  app: 'Process',
  http: 'HTTP (api and ops ports)',
  database: 'Postgres (libs/persistence)',
  redis: 'Redis (libs/queues and friends)',
  telemetry: 'Logging, metrics and health (libs/telemetry)',
  queues: 'Queues and workers (libs/queues)',
  security: 'Secrets and access',
  beat: 'Beat (schedules and leadership)',
  api: 'Public API (keys, limits, idempotency, imports)',
  delivery: 'Delivery channels (libs/channels)',
  sourcing: 'Sourcing: finding and qualifying leads (libs/sourcing)',
};

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const url = (protocols: readonly string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL with scheme ${protocols.map((p) => p.replace(':', '://')).join(' or ')}`,
  );

export const ENV_VARS = [
  {
    name: 'NODE_ENV',
    section: 'app',
    description: 'development, test or production.',
    schema: z.enum(['development', 'test', 'production']),
    default: 'production',
  },
  {
    name: 'SHUTDOWN_GRACE_MS',
    section: 'app',
    description:
      'On SIGTERM, how long in-flight jobs and requests may take to finish before they are handed back.',
    schema: positiveInt.max(600_000),
    default: '10000',
  },
  {
    name: 'HERALD_BUILD_COMMIT',
    section: 'app',
    description:
      'The source commit this build was made from (set by the image build or the deploy). Exported as `herald_build_info{commit}`, so the dashboards can mark deploys.',
    schema: z
      .string()
      .trim()
      .max(64)
      .regex(/^[\w.-]*$/, 'must be a commit id or tag (letters, digits, . _ -)'),
    default: 'unknown',
  },
  {
    name: 'PORT',
    section: 'http',
    description: 'Public HTTP port of the api (`/v1`, `/docs`, `/health`, `/ready`).',
    schema: port,
    default: '3000',
  },
  {
    name: 'OPS_PORT',
    section: 'http',
    description:
      'Operations HTTP port (`/health`, `/ready`, `/metrics`, `/internal/*`). Every role serves one; keep it off the public network.',
    schema: port,
    default: '9464',
  },
  {
    name: 'HOST',
    section: 'http',
    description: 'Interface the HTTP servers bind to.',
    schema: z.string().min(1),
    default: '0.0.0.0',
  },
  {
    name: 'CORS_ORIGINS',
    section: 'http',
    description: 'Comma-separated list of origins allowed by CORS. Empty disables CORS.',
    schema: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(z.array(url(['http:', 'https:']))),
    default: '',
  },
  {
    name: 'TRUST_PROXY',
    section: 'http',
    description:
      "Which peers the api believes about the client (Express `trust proxy`, for `X-Forwarded-For`/`-Proto`/`-Host`): `false` (the socket peer is the client), a hop count (`1`: one proxy in front), or a comma-separated list of addresses, CIDR ranges and the names `loopback`, `linklocal`, `uniquelocal`. The default trusts proxies on private networks only (a load balancer or ingress), so a client on the internet cannot pick its own address. The client address is what failed authentications are throttled by: behind a proxy this list must include it, or every client shares the proxy's address.",
    schema: z.string().transform((value, ctx) => {
      const trimmed = value.trim();
      if (trimmed === 'false') return false;
      if (/^\d+$/.test(trimmed)) return Number(trimmed);
      const entries = trimmed
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = entries.filter((entry) => !isProxyEntry(entry));
      if (trimmed === 'true' || entries.length === 0 || bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `must be false, a hop count, or addresses, CIDR ranges, loopback, linklocal, uniquelocal (not true: clients write the left of X-Forwarded-For)${bad.length > 0 ? `; not understood: ${bad.join(', ')}` : ''}`,
        });
        return z.NEVER;
      }
      return entries;
    }),
    default: 'loopback,linklocal,uniquelocal',
  },
  {
    name: 'BODY_LIMIT',
    section: 'http',
    description: 'Largest JSON request body the api accepts (bytes, or units like 1mb).',
    schema: z.string().regex(/^\d+(b|kb|mb)?$/i, 'must be bytes or a size like 512kb or 1mb'),
    default: '1mb',
  },
  {
    name: 'HTTP_BODY_IDLE_TIMEOUT_MS',
    section: 'http',
    description:
      'A request body that sends nothing for this long is answered 408 and its connection closed (JSON bodies and streamed imports alike), so stalled clients cannot hold the api.',
    schema: positiveInt.max(600_000),
    default: '30000',
  },
  {
    name: 'DATABASE_URL',
    section: 'database',
    description: 'Postgres connection string.',
    schema: url(['postgres:', 'postgresql:']),
    default: 'postgres://herald:herald@127.0.0.1:5432/herald',
    secret: true,
  },
  {
    name: 'DATABASE_POOL_MAX',
    section: 'database',
    description: 'Largest number of pooled Postgres connections per process.',
    schema: positiveInt.max(500),
    default: '10',
  },
  {
    name: 'DATABASE_STATEMENT_TIMEOUT_MS',
    section: 'database',
    description: 'Postgres statement timeout for application queries.',
    schema: positiveInt,
    default: '30000',
  },
  {
    name: 'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS',
    section: 'database',
    description:
      'Postgres ends a session that sits idle inside a transaction this long (idle_in_transaction_session_timeout), so a stuck caller cannot keep a pooled connection and its locks.',
    schema: positiveInt,
    default: '30000',
  },
  {
    name: 'REDIS_URL',
    section: 'redis',
    description: 'Redis connection string (redis:// or rediss://).',
    schema: url(['redis:', 'rediss:']),
    default: 'redis://127.0.0.1:6379',
    secret: true,
  },
  {
    name: 'REDIS_CLUSTER_NODES',
    section: 'redis',
    description:
      'Comma-separated `host:port` seed nodes of a Redis Cluster. When set, every Redis client (queues, workers, quota, breakers, leases, API limits) is a cluster client that discovers the rest of the cluster from these; REDIS_URL then only supplies the user, password and TLS (`rediss://`) for every node, and its database must be 0. Empty: a standalone Redis at REDIS_URL. See docs/architecture.md (Redis Cluster) for the key and slot scheme.',
    schema: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(
        z.array(
          z
            .string()
            .regex(/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/, 'each node must be host:port'),
        ),
      ),
    default: '',
    example: '10.0.0.11:6379,10.0.0.12:6379,10.0.0.13:6379',
  },
  {
    name: 'QUEUE_PREFIX',
    section: 'redis',
    description:
      'Key prefix for every Herald key in Redis. It is wrapped in braces (a hash tag): on a Redis Cluster every key of one deployment shares one slot, so no script or transaction can meet CROSSSLOT. Deployments sharing a Redis need distinct prefixes.',
    schema: z
      .string()
      .regex(/^[a-zA-Z0-9_.:-]{1,64}$/, 'must be 1-64 characters of letters, digits, _ . : -'),
    default: 'herald',
  },
  {
    name: 'LOG_LEVEL',
    section: 'telemetry',
    description: 'fatal, error, warn, info, debug, trace or silent.',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
  },
  {
    name: 'LOG_FORMAT',
    section: 'telemetry',
    description: 'json (one line per event, for machines) or pretty (for a terminal).',
    schema: z.enum(['json', 'pretty']),
    default: 'json',
  },
  {
    name: 'SERVICE_NAME',
    section: 'telemetry',
    description: 'Overrides the `service` field of logs and the `/ready` answer (defaults to herald-<role>).',
    schema: z.string().max(64),
    default: '',
  },
  {
    name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    section: 'telemetry',
    description:
      'OTLP/HTTP collector base URL for traces (spans go to `<url>/v1/traces`, JSON), for example `http://tempo:4318`. Empty: tracing is off and no tracing SDK is loaded.',
    schema: z.union([z.literal(''), url(['http:', 'https:'])]),
    default: '',
    example: 'http://127.0.0.1:4318',
  },
  {
    name: 'OTEL_SERVICE_NAME',
    section: 'telemetry',
    description: 'The `service.name` of exported spans (defaults to SERVICE_NAME, else herald-<role>).',
    schema: z.string().max(64),
    default: '',
  },
  {
    name: 'OTEL_TRACES_SAMPLER_ARG',
    section: 'telemetry',
    description:
      'Share of new traces recorded, 0 to 1 (parent-based: a request that arrives with a sampled `traceparent` is always recorded).',
    schema: z.coerce.number().min(0).max(1),
    default: '1',
  },
  {
    name: 'OTEL_BSP_SCHEDULE_DELAY',
    section: 'telemetry',
    description: 'Milliseconds between span exports (spans are batched in memory meanwhile).',
    schema: positiveInt.max(60_000),
    default: '5000',
  },
  {
    name: 'READY_TIMEOUT_MS',
    section: 'telemetry',
    description: 'How long each readiness check (database, redis) may take before it counts as down.',
    schema: positiveInt.max(60_000),
    default: '1500',
  },
  {
    name: 'WORKER_HEARTBEAT_INTERVAL_MS',
    section: 'telemetry',
    description: 'How often each worker publishes its heartbeat.',
    schema: positiveInt,
    default: '5000',
  },
  {
    name: 'WORKER_HEARTBEAT_MAX_AGE_MS',
    section: 'telemetry',
    description: 'The api reports `workers` up when a heartbeat is fresher than this.',
    schema: positiveInt,
    default: '20000',
  },
  {
    name: 'READY_REQUIRE_WORKERS',
    section: 'telemetry',
    description: 'Whether the api answers 503 on /ready when no worker heartbeat is fresh.',
    schema: bool,
    default: 'true',
  },
  {
    name: 'QUEUE_CONCURRENCY_SYSTEM',
    section: 'queues',
    description: 'Concurrent jobs per worker process on the `system` queue.',
    schema: positiveInt.max(1000),
    default: '4',
  },
  {
    name: 'QUEUE_CONCURRENCY_RUNS',
    section: 'queues',
    description:
      'Concurrent jobs per worker process on the `runs` queue (campaign fan-out, a page of 5,000 contacts at a time).',
    schema: positiveInt.max(100),
    default: '2',
  },
  {
    name: 'QUEUE_CONCURRENCY_DELIVERIES',
    section: 'queues',
    description:
      'Concurrent jobs per worker process on the `deliveries` queue, and the most deliveries one process has in flight (single jobs and the deliveries of page jobs together). Deliveries in flight together are sent as one batch (one database and Redis round trip per step), so higher means more throughput; lower bounds memory and what a crash can leave sent but unrecorded.',
    schema: positiveInt.max(5000),
    default: '200',
  },
  {
    name: 'QUEUE_CONCURRENCY_SOURCING',
    section: 'queues',
    description:
      "Concurrent jobs per worker process on the `sourcing` queue (a run's search pages and profile visits, and batches of up to 100 candidates to assess, enrich, score and hand off; a batch's candidates wait on their sites side by side, within SOURCING_FETCH_CONCURRENCY). Outbound requests stay within each source account's quota and one request per website domain per second across the fleet, whatever this is.",
    schema: positiveInt.max(100),
    default: '8',
  },
  {
    name: 'QUEUE_LOCK_DURATION_MS',
    section: 'queues',
    description:
      'How long a worker holds a job without renewing its lock (it renews every half of this). A worker that dies (kill -9) gives its jobs back at most this plus QUEUE_STALLED_INTERVAL_MS later, when another worker finds them stalled: the defaults hand them back within 8 s. Raise it only if event-loop stalls longer than half of it are expected (a job whose lock lapses is run again elsewhere; harmless, but wasted).',
    schema: positiveInt.min(1000).max(600_000),
    default: '6000',
  },
  {
    name: 'QUEUE_STALLED_INTERVAL_MS',
    section: 'queues',
    description:
      'How often the workers look for stalled jobs (those whose worker stopped renewing their lock); one check runs per interval across the fleet.',
    schema: positiveInt.min(1000).max(600_000),
    default: '2000',
  },
  {
    name: 'DELIVERY_SEND_LEASE_MS',
    section: 'delivery',
    description:
      'How long one send attempt owns a delivery in `sending`. A delivery found in `sending` past it (its worker died) is sent again with the same idempotency key. Keep it above the channel timeouts.',
    schema: positiveInt.min(1000).max(3_600_000),
    default: '60000',
  },
  {
    name: 'WORKER_QUEUES',
    section: 'queues',
    description: 'Comma-separated queues this worker consumes; empty means all.',
    schema: z.string().transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
    default: '',
  },
  {
    name: 'HERALD_ADMIN_KEY',
    section: 'security',
    description: 'Platform admin key: creates tenants and reaches the admin routes. At least 32 characters.',
    schema: z.string().min(32, 'must be at least 32 characters'),
    secret: true,
    example: 'change-me-platform-admin-key-0123456789abcdef',
  },
  {
    name: 'HERALD_ENCRYPTION_KEY',
    section: 'security',
    description:
      'The current key for data at rest (sender account credentials, stored idempotency responses; AES-256-GCM): 32 bytes as 64 hex characters or base64, prefixed with `<key id>:` (1-64 letters, digits, `_`, `-`). Every value it seals records its id. A key given without an id has the id `default`. To rotate, see HERALD_ENCRYPTION_PREVIOUS_KEYS.',
    schema: z.string().transform(ringKey),
    secret: true,
    example: 'k1:0000000000000000000000000000000000000000000000000000000000000000',
  },
  {
    name: 'HERALD_ENCRYPTION_PREVIOUS_KEYS',
    section: 'security',
    description:
      'Other keys that open (never seal) data at rest, comma-separated, each `<key id>:<key>` as in HERALD_ENCRYPTION_KEY (an entry without an id has the id `default`): the keys before the current one, or the next one while it rolls out. `herald keys rotate-encryption` re-seals what they sealed with the current key; a key can leave the list once that reports nothing remaining. Ids and keys are unique across both variables.',
    schema: z.string().transform((value, ctx) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean)
        .map((entry, i) => ringKey(entry, ctx, `entry ${i + 1} `)),
    ),
    default: '',
    secret: true,
  },
  {
    name: 'BEAT_LEASE_TTL_MS',
    section: 'beat',
    description:
      'Leader lease time-to-live. A standby beat takes over within this long after the leader dies.',
    schema: positiveInt.min(1000).max(300_000),
    default: '10000',
  },
  {
    name: 'BEAT_LEASE_RENEW_MS',
    section: 'beat',
    description: 'How often the leader renews (and a standby retries) the lease. Must be well below the TTL.',
    schema: positiveInt.min(100),
    default: '3000',
  },
  {
    name: 'BEAT_SWEEP_INTERVAL_MS',
    section: 'beat',
    description:
      'How often the leading beat sweeps: stalled deliveries, unsettled quota reservations, undispatched outbox rows, and campaign schedules (reconciled into BullMQ job schedulers, missed slots caught up).',
    schema: positiveInt.min(100).max(3_600_000),
    default: '15000',
  },
  {
    name: 'BEAT_TICK_INTERVAL_MS',
    section: 'beat',
    description:
      'How often the leading beat turns due sequence steps into deliveries (the enrollment ticker).',
    schema: positiveInt.min(50).max(60_000),
    default: '1000',
  },
  {
    name: 'ANALYTICS_FOLD_INTERVAL_MS',
    section: 'beat',
    description:
      'How often the leading beat folds the analytics deltas (appended by sends and engagement events) into the rollups. Reads add the unfolded deltas, so this bounds their number, not how fresh the analytics are.',
    schema: positiveInt.min(100).max(600_000),
    default: '2000',
  },
  {
    name: 'BEAT_EXPERIMENTS_INTERVAL_MS',
    section: 'beat',
    description:
      'How often the leading beat evaluates open A/B/n experiments: records a winner once the z-test calls one, and promotes it where the step says `auto_promote`.',
    schema: positiveInt.min(100).max(86_400_000),
    default: '300000',
  },
  {
    name: 'WEEKLY_REPORT_HOUR',
    section: 'beat',
    description:
      'The local hour (tenant’s time zone) on Monday from which the leading beat sends each tenant its weekly report for the week just ended (once per tenant and ISO week).',
    schema: z.coerce.number().int().min(0).max(23),
    default: '8',
  },
  {
    name: 'SCHEDULE_LATE_AFTER_MS',
    section: 'beat',
    description:
      'A schedule fire handled this long after its slot is late: a campaign with `catch_up: skip` lets it pass, one with `fire_once` (the default) still runs it, once.',
    schema: positiveInt.min(1000).max(7 * 86_400_000),
    default: '3600000',
  },
  {
    name: 'DELIVERY_STALL_MS',
    section: 'beat',
    description:
      'A delivery unfinished and untouched this long past its due time is enqueued again by the beat sweep (its job may have been lost with Redis data).',
    schema: positiveInt.min(1000).max(86_400_000),
    default: '120000',
  },
  {
    name: 'CONVERSION_ATTRIBUTION_DAYS',
    section: 'api',
    description:
      'A conversion or reply recorded through `POST /v1/events` is attributed to the contact’s last delivery sent within this many days before it happened (that campaign’s, when the event names one); older or none: recorded unattributed.',
    schema: positiveInt.max(365),
    default: '30',
  },
  {
    name: 'OUTBOUND_ALLOW_PRIVATE_NETWORKS',
    section: 'delivery',
    description:
      'Lets every outbound connection to a tenant-chosen host (SMTP and webhook channels) reach loopback, private, link-local, CGNAT and other non-public addresses. Development and tests only: in production it opens the door to SSRF.',
    schema: bool,
    default: 'false',
    deprecatedNames: ['WEBHOOK_ALLOW_PRIVATE_NETWORKS'],
  },
  {
    name: 'OUTBOUND_HOST_OVERRIDES',
    section: 'delivery',
    description:
      'Fixed addresses for host names, like curl --resolve: comma-separated `name=ip` or `*.suffix=ip` (e.g. `*.sites.test=127.0.0.1` for the local fake web). Every outbound connection through the address guard uses them instead of DNS; the address is still refused when it is not public unless OUTBOUND_ALLOW_PRIVATE_NETWORKS is set. Development and tests only.',
    schema: z.string().transform((value, ctx) => {
      try {
        return parseHostOverrides(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
    default: '',
    example: '*.sites.test=127.0.0.1',
  },
  {
    name: 'SOURCING_FETCH_CONCURRENCY',
    section: 'sourcing',
    description:
      "Requests a worker process has open at once to websites (assessment) and enrichment providers. A candidate waiting for its domain's one-request-per-second turn holds none, so a batch's candidates wait on their sites side by side; this bounds sockets and the page bodies held in memory (each at most SOURCING_ASSESSMENT_MAX_BYTES).",
    schema: positiveInt.max(1000),
    default: '128',
  },
  {
    name: 'SOURCING_ASSESSMENT_TIMEOUT_MS',
    section: 'sourcing',
    description:
      'How long one website assessment fetch may take (connect, headers, body, every redirect) before it is recorded as a timeout.',
    schema: positiveInt.min(500).max(120_000),
    default: '10000',
  },
  {
    name: 'SOURCING_ASSESSMENT_MAX_BYTES',
    section: 'sourcing',
    description:
      'Bytes of a website page an assessment reads at most; a larger page is measured up to here and marked `too_large`.',
    schema: positiveInt.min(16_384).max(50_000_000),
    default: '2097152',
  },
  {
    name: 'SOURCING_ASSESSMENT_MAX_REDIRECTS',
    section: 'sourcing',
    description:
      'Redirects an assessment follows before it stops with `too_many_redirects` (a loop ends here).',
    schema: z.coerce.number().int().min(0).max(20),
    default: '5',
  },
  {
    name: 'SOURCING_ASSESSMENT_CACHE_TTL_SECONDS',
    section: 'sourcing',
    description:
      'How long a website assessment is reused for the same tenant and domain before the site is fetched again.',
    schema: positiveInt.max(31_536_000),
    default: '604800',
  },
  {
    name: 'SOURCING_ENRICHMENT_CACHE_TTL_SECONDS',
    section: 'sourcing',
    description:
      'How long an enrichment answer (found or not found) is reused for the same tenant, account and domain or email.',
    schema: positiveInt.max(31_536_000),
    default: '2592000',
  },
  {
    name: 'SOURCING_ENRICHMENT_TIMEOUT_MS',
    section: 'sourcing',
    description: 'How long one enrichment lookup may take before it counts as a failure of the provider.',
    schema: positiveInt.min(200).max(60_000),
    default: '5000',
  },
  {
    name: 'WEBHOOK_TIMEOUT_MS',
    section: 'delivery',
    description:
      'How long one webhook call may take (connect, send, answer) before it counts as a transient failure.',
    schema: positiveInt.max(120_000),
    default: '10000',
  },
  {
    name: 'SMTP_TIMEOUT_MS',
    section: 'delivery',
    description:
      'Connection, greeting and socket timeout of SMTP transports; past it the send is a transient failure.',
    schema: positiveInt.max(300_000),
    default: '30000',
  },
  {
    name: 'PUBLIC_BASE_URL',
    section: 'delivery',
    description:
      "Where recipients reach this fleet's api from the internet (`https://mail.example.com`): the base of the links in every email (hosted unsubscribe `/u/…`, open pixel `/t/o/…`, click redirects `/t/c/…`). Empty: emails carry no List-Unsubscribe header and no unsubscribe link, and tracking stays off (fine for development; mailbox providers require one-click unsubscribe from bulk senders).",
    schema: z.union([z.literal(''), url(['http:', 'https:'])]).transform((v) => v.replace(/\/+$/, '')),
    default: '',
    example: 'https://mail.example.com',
  },
  {
    name: 'TRACKING_MACHINE_WINDOW_SECONDS',
    section: 'delivery',
    description:
      'An open or click this soon after its message was sent is counted as a machine (a security scanner or image prefetcher fetching every link on arrival), never as a person. 0 turns this check off (the user-agent and HEAD checks stay).',
    schema: z.coerce.number().int().min(0).max(3600),
    default: '10',
  },
  {
    name: 'API_KEY_PEPPER',
    section: 'api',
    description:
      'The current secret mixed into stored API key hashes (HMAC-SHA256), at least 32 characters. Empty derives one from HERALD_ENCRYPTION_KEY; set it explicitly so rotating that key never touches API keys. To rotate, see API_KEY_PREVIOUS_PEPPERS.',
    schema: z.union([z.literal(''), z.string().min(32, 'must be empty or at least 32 characters')]),
    default: '',
    secret: true,
  },
  {
    name: 'API_KEY_PREVIOUS_PEPPERS',
    section: 'api',
    description:
      'Other API key peppers, comma-separated (a pepper cannot hold a comma), each at least 32 characters: the ones before API_KEY_PEPPER, or the next one while it rolls out. A key hashed with one still authenticates and is re-hashed with API_KEY_PEPPER on use. The peppers derived from each key of the encryption ring are accepted the same way.',
    schema: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().min(32, 'each entry must be at least 32 characters'))),
    default: '',
    secret: true,
  },
  {
    name: 'API_KEY_CACHE_TTL_MS',
    section: 'api',
    description:
      'How long an api process may reuse a verified key lookup before asking Postgres again (0 disables the cache). Revocation reaches every replica at once through Redis; this bounds it when Redis is down.',
    schema: z.coerce.number().int().min(0).max(300_000),
    default: '5000',
  },
  {
    name: 'API_KEY_LAST_USED_FLUSH_MS',
    section: 'api',
    description:
      'How often each api process writes the keys it saw to `api_keys.last_used_at` (one batched UPDATE, never a write per request).',
    schema: positiveInt.min(100).max(3_600_000),
    default: '30000',
  },
  {
    name: 'API_RATE_LIMIT_PER_SECOND',
    section: 'api',
    description:
      'Sustained requests per second allowed per API key (token bucket kept in Redis, shared by all api replicas). 0 disables the limit.',
    schema: z.coerce.number().int().min(0).max(1_000_000),
    default: '100',
  },
  {
    name: 'API_RATE_LIMIT_BURST',
    section: 'api',
    description: 'Requests a key may make at once before the per-second rate applies (bucket size).',
    schema: positiveInt.max(10_000_000),
    default: '200',
  },
  {
    name: 'AUTH_FAILURE_LIMIT_PER_ADDRESS',
    section: 'api',
    description:
      'Failed authentications (401s on `/v1` and `/admin/queues`) one client address may make in AUTH_FAILURE_WINDOW_MS; past it every request from that address gets 429 with `Retry-After`, even with a correct key, until the oldest failure leaves the window. IPv6 clients count per /64. Shared by all api replicas through Redis. 0 disables.',
    schema: z.coerce.number().int().min(0).max(1_000_000),
    default: '20',
  },
  {
    name: 'AUTH_FAILURE_LIMIT_PER_KEY_PREFIX',
    section: 'api',
    description:
      'Failed authentications with well-formed keys of one key prefix (`hk_<prefix>_…`), from any address, in AUTH_FAILURE_WINDOW_MS; past it that prefix is refused (429) from everywhere, so guesses spread over many addresses are slowed too. 0 disables.',
    schema: z.coerce.number().int().min(0).max(1_000_000),
    default: '10',
  },
  {
    name: 'AUTH_FAILURE_WINDOW_MS',
    section: 'api',
    description: 'The sliding window the failed-authentication limits count over.',
    schema: positiveInt.min(1000).max(86_400_000),
    default: '60000',
  },
  {
    name: 'IDEMPOTENCY_TTL_SECONDS',
    section: 'api',
    description:
      'How long an `Idempotency-Key` and its stored response are kept (replays after that run again).',
    schema: positiveInt.min(60).max(30 * 24 * 3600),
    default: '86400',
  },
  {
    name: 'IMPORT_BODY_LIMIT',
    section: 'api',
    description:
      'Largest body `POST /v1/contacts/import` accepts (bytes, or units like 64mb). The body is streamed, never held whole in memory.',
    schema: z.string().regex(/^\d+(b|kb|mb|gb)?$/i, 'must be bytes or a size like 512kb or 64mb'),
    default: '64mb',
  },
  {
    name: 'API_JSON_MAX_DEPTH',
    section: 'api',
    description:
      'How deeply arrays and objects may nest in a JSON body, in each import row and in a CSV `attributes` cell (400 or a row error past it). Checked on the raw text, before anything parses it.',
    schema: positiveInt.min(2).max(256),
    default: '32',
  },
  {
    name: 'API_IMPORT_CONCURRENCY_PER_TENANT',
    section: 'api',
    description:
      'Imports (`POST /v1/contacts/import`) one tenant may run at once, across all api replicas (counted in Redis); more are answered 429 with Retry-After.',
    schema: positiveInt.max(1000),
    default: '2',
  },
  {
    name: 'PUBLIC_ROUTES_DB_CONCURRENCY',
    section: 'api',
    description:
      'Database work the public email routes (open pixel, click redirect, unsubscribe page and one-click POST) do at once per api replica; more waits its turn (PUBLIC_ROUTES_QUEUE). Anyone who received an email holds valid links, so this keeps a flood of them from taking the pool the authenticated API needs. Empty: a quarter of DATABASE_POOL_MAX, at least 1; set, it must be below DATABASE_POOL_MAX.',
    schema: z.union([z.literal(''), positiveInt.max(500)]),
    default: '',
  },
  {
    name: 'PUBLIC_ROUTES_QUEUE',
    section: 'api',
    description:
      'Public email requests that may wait for PUBLIC_ROUTES_DB_CONCURRENCY per api replica. Past it an open or a click is answered (the pixel, the redirect) without being recorded, counted in `herald_public_requests_shed_total`; an unsubscribe is never shed, it waits.',
    schema: positiveInt.max(100_000),
    default: '1000',
  },
  {
    name: 'PROVIDER_EVENTS_BODY_LIMIT',
    section: 'api',
    description:
      'Largest body `POST /v1/provider-events/:sender_account_id/:provider` accepts (bytes, or units like 512kb): a provider batch larger than this is refused 413 before its signature is checked.',
    schema: z.string().regex(/^\d+(b|kb|mb)?$/i, 'must be bytes or a size like 512kb or 2mb'),
    default: '2mb',
  },
  {
    name: 'PROVIDER_EVENTS_TIMESTAMP_TOLERANCE_SECONDS',
    section: 'api',
    description:
      "How far the signed timestamp of a SendGrid or Mailgun webhook may be from this server's clock (either way) before the request is refused 401 as a replay; a Mailgun token is also refused when seen again within it.",
    schema: positiveInt.min(30).max(86_400),
    default: '300',
  },
  {
    name: 'SNS_ALLOWED_ORIGIN_PATTERN',
    section: 'api',
    description:
      "Regular expression a SES-through-SNS message's `SigningCertURL` and `SubscribeURL` origin (`scheme://host[:port]`) must match in full; anything else is refused 401 and never fetched. Fetches still pass the outbound guard. Tests point it at a local server.",
    schema: z.string().refine((v) => {
      try {
        new RegExp(v);
        return true;
      } catch {
        return false;
      }
    }, 'must be a regular expression'),
    default: '^https://sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$',
  },
  {
    name: 'SNS_CERT_CACHE_SECONDS',
    section: 'api',
    description:
      'How long each api process keeps an SNS signing certificate it fetched (by URL), so verifying a message costs no fetch. 0 fetches every time.',
    schema: z.coerce
      .number()
      .int()
      .min(0)
      .max(7 * 86_400),
    default: '86400',
  },
  {
    name: 'SENDER_HEALTH_WINDOW_SECONDS',
    section: 'api',
    description:
      "The sliding window a sender account's bounce and complaint rates are counted over (from provider events, in Redis, in twelve buckets).",
    schema: positiveInt.min(60).max(7 * 86_400),
    default: '3600',
  },
  {
    name: 'SENDER_HEALTH_MIN_SAMPLE',
    section: 'api',
    description:
      "Messages whose fate a provider reported (delivered or hard-bounced) in the window before an account's rates can pause it.",
    schema: positiveInt.max(10_000_000),
    default: '100',
  },
  {
    name: 'SENDER_HEALTH_BOUNCE_RATE',
    section: 'api',
    description:
      'Hard bounces ÷ (delivered + hard bounces) in the window above which the account is paused (`paused_reason` says why). 0 never pauses for bounces.',
    schema: z.coerce.number().min(0).max(1),
    default: '0.1',
  },
  {
    name: 'SENDER_HEALTH_COMPLAINT_RATE',
    section: 'api',
    description:
      'Complaints ÷ (delivered + hard bounces) in the window above which the account is paused. 0 never pauses for complaints.',
    schema: z.coerce.number().min(0).max(1),
    default: '0.001',
  },
  {
    name: 'SESSION_COOKIE_SECURE',
    section: 'api',
    description:
      'Whether the console session cookie (`herald_session`) carries `Secure` (sent over HTTPS only). `auto`: yes unless NODE_ENV is development or test (plain http on loopback). Behind TLS-terminating proxies keep it on.',
    schema: z.enum(['auto', 'true', 'false']),
    default: 'auto',
  },
  {
    name: 'SESSION_IDLE_TIMEOUT_SECONDS',
    section: 'api',
    description:
      'A console session ends after this long without a request (it is then refused and must sign in again).',
    schema: positiveInt.min(60).max(7 * 24 * 3600),
    default: '28800',
  },
  {
    name: 'SESSION_MAX_AGE_SECONDS',
    section: 'api',
    description: 'A console session ends this long after sign-in, however active it is.',
    schema: positiveInt.min(60).max(30 * 24 * 3600),
    default: '86400',
  },
  {
    name: 'SIGN_IN_LINK_TTL_SECONDS',
    section: 'api',
    description:
      'How long a one-time console sign-in link (`/console/sign-in?token=…`, from `POST /v1/sessions/links` or `herald sessions link`) stays valid; it works once.',
    schema: positiveInt.min(10).max(24 * 3600),
    default: '900',
  },
  {
    name: 'CONSOLE_DIST_DIR',
    section: 'api',
    description:
      'Where the built console (`apps/console`, built by `npm run build`) is, served at `/console`; relative paths are from the working directory. Missing: `/console` answers 503 saying how to build it.',
    schema: z.string().min(1),
    default: 'dist/apps/console',
  },
] as const satisfies readonly EnvVar[];

/** One entry of a `trust proxy` list: an address, a CIDR range, or a range name proxy-addr knows. */
function isProxyEntry(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** One `[<key id>:]<key>` entry, or an issue that names its place (never the key). */
function ringKey(value: string, ctx: z.RefinementCtx, where = ''): RingKey {
  const parsed = parseRingKey(value);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: `${where}${parsed}` });
    return z.NEVER;
  }
  return parsed;
}
