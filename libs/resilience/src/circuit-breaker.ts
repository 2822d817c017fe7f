import type { Clock } from '@herald/time';
import type { RedisKeys } from '@herald/queues';
import type { HeraldMetrics } from '@herald/telemetry';
import type { RedisClient } from '@herald/queues';
import {
  acquireStep,
  CLOSED,
  DEFAULT_CIRCUIT_SETTINGS,
  failureStep,
  STATE_CODES,
  STATE_NAMES,
  successStep,
  type AcquireResult,
  type CircuitRecord,
  type CircuitSettings,
  type CircuitStateName,
} from './circuit-state';
import { isRedisUnavailable, RedisScript } from '@herald/queues';

/** A breaker is per (channel, sender account): one provider endpoint with one set of credentials. */
export interface CircuitKey {
  readonly channel: string;
  readonly account: string;
}

/** `smtp:3f2c…` — the form the admin API uses in `/v1/admin/circuits/:key`. */
export function formatCircuitKey(key: CircuitKey): string {
  return `${key.channel}:${key.account}`;
}

/** Parses `channel:account`; undefined when malformed. */
export function parseCircuitKey(value: string): CircuitKey | undefined {
  const match = /^([a-z][a-z0-9_-]{0,31}):([A-Za-z0-9._-]{1,128})$/.exec(value);
  return match ? { channel: match[1]!, account: match[2]! } : undefined;
}

export interface CircuitSnapshot extends CircuitRecord {
  readonly key: CircuitKey;
}

export interface CircuitBreakerOptions {
  readonly redis: RedisClient;
  readonly keys: RedisKeys;
  readonly clock: Clock;
  readonly metrics?: HeraldMetrics;
  readonly settings?: Partial<CircuitSettings>;
  /** How long an idle circuit's record stays in Redis (default one day). */
  readonly idleTtlMs?: number;
  /** Called when Redis is unreachable and the process-local fallback decides instead. */
  readonly onFallback?: (error: Error) => void;
}

// Hash fields: s state (0 closed, 1 half-open, 2 open), f consecutive failures, u open until,
// p last open period, q probe lease end. Times are the caller's clock, passed in ARGV: the
// scripts never read the server clock, so every process and test decides on the same time base.
const ACQUIRE = new RedisScript(`
local h = redis.call('HMGET', KEYS[1], 's', 'u', 'q')
local s = tonumber(h[1]) or 0
if s == 0 then return {1, 0, 0, 0, 0} end
local now = tonumber(ARGV[1])
if s == 2 then
  local u = tonumber(h[2]) or 0
  if now < u then return {0, 0, u, 2, 0} end
  redis.call('HSET', KEYS[1], 's', 1, 'q', now + tonumber(ARGV[2]))
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {1, 1, 0, 1, 1}
end
local q = tonumber(h[3]) or 0
if now < q then return {0, 0, q, 1, 0} end
redis.call('HSET', KEYS[1], 'q', now + tonumber(ARGV[2]))
return {1, 1, 0, 1, 0}
`);

const FAILURE = new RedisScript(`
local h = redis.call('HMGET', KEYS[1], 's', 'f', 'p', 'u')
local s = tonumber(h[1]) or 0
local now = tonumber(ARGV[1])
local base = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local function touch(extra)
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]) + extra)
  redis.call('SADD', KEYS[2], ARGV[6])
end
local function open(period)
  local u = now + period
  redis.call('HSET', KEYS[1], 's', 2, 'f', 0, 'u', u, 'p', period, 'q', 0)
  touch(period)
  return {2, 1, u}
end
if s == 0 then
  local f = (tonumber(h[2]) or 0) + 1
  if f >= tonumber(ARGV[2]) then return open(math.min(base, max)) end
  redis.call('HSET', KEYS[1], 's', 0, 'f', f)
  touch(0)
  return {0, 0, 0}
elseif s == 1 then
  return open(math.min(math.max((tonumber(h[3]) or 0) * 2, base), max))
end
return {2, 0, tonumber(h[4]) or 0}
`);

const SUCCESS = new RedisScript(`
local h = redis.call('HMGET', KEYS[1], 's', 'f')
local s = tonumber(h[1]) or 0
if s == 0 then
  if (tonumber(h[2]) or 0) > 0 then redis.call('HSET', KEYS[1], 'f', 0) end
  return {0, 0}
elseif s == 1 then
  redis.call('HSET', KEYS[1], 's', 0, 'f', 0, 'u', 0, 'p', 0, 'q', 0)
  return {0, 1}
end
return {2, 0}
`);

const FORCE = new RedisScript(`
local before = tonumber(redis.call('HGET', KEYS[1], 's')) or 0
redis.call('HSET', KEYS[1], 's', ARGV[1], 'f', 0, 'u', ARGV[2], 'p', ARGV[3], 'q', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[5])
return before
`);

/**
 * Fleet-wide circuit breakers (DESIGN §9): 3 consecutive transient failures open a circuit for
 * 1 s, doubling on every re-open up to 60 s; once the period ends exactly one caller in the
 * whole fleet gets the half-open probe (decided atomically in Lua); its success closes the
 * circuit and resets the backoff, its failure re-opens it for twice as long.
 *
 * Callers record only *transient* failures (timeouts, 4xx SMTP, 5xx/429 HTTP). A permanent
 * error is the provider answering, so it is recorded as a success.
 *
 * While Redis is unreachable each process decides with a local breaker of the same rules
 * (docs/adr/0002-breaker.md): sending goes on, the quota's Postgres fallback still bounds it.
 */
export class CircuitBreaker {
  private readonly settings: CircuitSettings;
  private readonly idleTtlMs: number;
  private readonly local = new Map<string, CircuitRecord>();

  constructor(private readonly options: CircuitBreakerOptions) {
    this.settings = { ...DEFAULT_CIRCUIT_SETTINGS, ...options.settings };
    this.idleTtlMs = options.idleTtlMs ?? 86_400_000;
  }

  /** May a send go out now? `probe: true` marks the one half-open trial: report its outcome. */
  async acquire(key: CircuitKey): Promise<AcquireResult> {
    const now = this.options.clock.nowMs();
    const reply = await this.redisOr(
      () =>
        ACQUIRE.run(
          this.options.redis,
          [this.hashKey(key)],
          [now, this.settings.probeTimeoutMs, this.ttl(0)],
        ),
      () => {
        const before = this.localRecord(key);
        const step = acquireStep(before, now, this.settings);
        this.local.set(formatCircuitKey(key), step.next);
        const r = step.result;
        return [
          r.allowed ? 1 : 0,
          r.allowed && r.probe ? 1 : 0,
          r.allowed ? 0 : r.retryAt,
          STATE_CODES[step.next.state],
          before.state !== step.next.state ? 1 : 0,
        ];
      },
    );
    const [allowed, probe, retryAt, state, transitioned] = numbers<[number, number, number, number, number]>(
      reply,
      5,
    );
    this.observe(key, state, transitioned === 1);
    return allowed === 1 ? { allowed: true, probe: probe === 1 } : { allowed: false, retryAt };
  }

  /** The send succeeded (or failed permanently: the provider is up). Closes a half-open circuit. */
  async recordSuccess(key: CircuitKey): Promise<void> {
    const reply = await this.redisOr(
      () => SUCCESS.run(this.options.redis, [this.hashKey(key)], []),
      () => {
        const before = this.localRecord(key);
        const next = successStep(before);
        this.local.set(formatCircuitKey(key), next);
        return [STATE_CODES[next.state], before.state !== next.state ? 1 : 0];
      },
    );
    const [state, transitioned] = numbers<[number, number]>(reply, 2);
    this.observe(key, state, transitioned === 1);
  }

  /** The send failed transiently. Returns the state after it (and until when it is open). */
  async recordFailure(key: CircuitKey): Promise<{ state: CircuitStateName; openUntil?: number }> {
    const now = this.options.clock.nowMs();
    const s = this.settings;
    const reply = await this.redisOr(
      () =>
        FAILURE.run(
          this.options.redis,
          [this.hashKey(key), this.indexKey()],
          [now, s.failureThreshold, s.baseOpenMs, s.maxOpenMs, this.ttl(0), formatCircuitKey(key)],
        ),
      () => {
        const before = this.localRecord(key);
        const next = failureStep(before, now, s);
        this.local.set(formatCircuitKey(key), next);
        return [STATE_CODES[next.state], before.state !== next.state ? 1 : 0, next.openUntil];
      },
    );
    const [state, transitioned, openUntil] = numbers<[number, number, number]>(reply, 3);
    this.observe(key, state, transitioned === 1);
    const name = stateName(state);
    return name === 'open' ? { state: name, openUntil } : { state: name };
  }

  /** Admin: opens the circuit for `ms` (default the maximum period), whatever its state. */
  async forceOpen(key: CircuitKey, ms = this.settings.maxOpenMs): Promise<{ openUntil: number }> {
    if (!Number.isInteger(ms) || ms <= 0)
      throw new RangeError('forceOpen needs a positive whole number of ms');
    const openUntil = this.options.clock.nowMs() + ms;
    const period = Math.min(ms, this.settings.maxOpenMs);
    const before = await FORCE.run(
      this.options.redis,
      [this.hashKey(key), this.indexKey()],
      [2, openUntil, period, this.ttl(ms), formatCircuitKey(key)],
    );
    this.observe(key, STATE_CODES.open, Number(before) !== STATE_CODES.open);
    return { openUntil };
  }

  /** Admin: closes the circuit and resets its backoff. */
  async forceClose(key: CircuitKey): Promise<void> {
    const before = await FORCE.run(
      this.options.redis,
      [this.hashKey(key), this.indexKey()],
      [0, 0, 0, this.ttl(0), formatCircuitKey(key)],
    );
    this.local.delete(formatCircuitKey(key));
    this.observe(key, STATE_CODES.closed, Number(before) !== STATE_CODES.closed);
  }

  /** Admin: the state of one circuit as Redis holds it (closed when never seen). */
  async get(key: CircuitKey): Promise<CircuitSnapshot> {
    const fields = await this.options.redis.hgetall(this.hashKey(key));
    return { key, ...recordFrom(fields) };
  }

  /** Admin: every circuit with a record in Redis (those seen failing in the last idle TTL). */
  async list(): Promise<CircuitSnapshot[]> {
    const members = await this.options.redis.smembers(this.indexKey());
    const keys = members.map(parseCircuitKey).filter((k): k is CircuitKey => k !== undefined);
    if (keys.length === 0) return [];
    const pipeline = this.options.redis.pipeline();
    for (const key of keys) pipeline.hgetall(this.hashKey(key));
    const replies = (await pipeline.exec()) ?? [];
    const snapshots: CircuitSnapshot[] = [];
    const gone: string[] = [];
    keys.forEach((key, i) => {
      const fields = replies[i]?.[1] as Record<string, string> | undefined;
      if (!fields || Object.keys(fields).length === 0) gone.push(formatCircuitKey(key));
      else snapshots.push({ key, ...recordFrom(fields) });
    });
    if (gone.length > 0) await this.options.redis.srem(this.indexKey(), ...gone);
    return snapshots.sort((a, b) => formatCircuitKey(a.key).localeCompare(formatCircuitKey(b.key)));
  }

  private async redisOr(remote: () => Promise<unknown>, local: () => number[]): Promise<unknown> {
    try {
      return await remote();
    } catch (error) {
      if (!isRedisUnavailable(error)) throw error;
      this.options.onFallback?.(error as Error);
      return local();
    }
  }

  private localRecord(key: CircuitKey): CircuitRecord {
    return this.local.get(formatCircuitKey(key)) ?? CLOSED;
  }

  private observe(key: CircuitKey, state: number, transitioned: boolean): void {
    const metrics = this.options.metrics;
    if (!metrics) return;
    metrics.circuitState.set({ channel: key.channel, account: key.account }, state);
    if (transitioned) metrics.circuitTransitions.inc({ channel: key.channel, to: stateName(state) });
  }

  private ttl(extraMs: number): number {
    return this.idleTtlMs + extraMs;
  }

  private hashKey(key: CircuitKey): string {
    return this.options.keys.key('circuit', key.channel, key.account);
  }

  private indexKey(): string {
    return this.options.keys.key('circuits');
  }
}

function numbers<T extends number[]>(reply: unknown, length: T['length']): T {
  if (!Array.isArray(reply) || reply.length !== length) {
    throw new Error(`unexpected circuit script reply: ${JSON.stringify(reply)}`);
  }
  return reply.map((v) => Number(v)) as T;
}

function stateName(code: number): CircuitStateName {
  const name = STATE_NAMES[code];
  if (!name) throw new Error(`unknown circuit state code ${code}`);
  return name;
}

function recordFrom(fields: Record<string, string>): CircuitRecord {
  if (fields.s === undefined) return CLOSED;
  return {
    state: stateName(Number(fields.s)),
    failures: Number(fields.f ?? 0),
    openUntil: Number(fields.u ?? 0),
    periodMs: Number(fields.p ?? 0),
    probeUntil: Number(fields.q ?? 0),
  };
}
