import type { RedisKeys } from '@herald/queues';
import type { Redis } from 'ioredis';
import type { Bucket } from './buckets';
import type { CommitOutcome, PendingReservation, RefundOutcome } from './quota.types';
import { RedisScript } from '@herald/queues';

/**
 * The fast path. Each window is a Redis hash `{prefix}:quota:<scope>:<window id>` with
 *   used  units reserved (and not refunded) through Redis,
 *   cap   units Redis holds on lease from Postgres (docs/adr/0001-quota-fallback.md),
 *   free  units Postgres had left unleased at the last lease (unknown when absent),
 *   limit the limit `free` was computed for (a changed limit makes `free` unknown).
 * A reservation fits when `used + n ≤ min(cap, limit)` in every window. When a window's
 * leased headroom is short and Postgres may still have units, the script takes nothing and
 * asks for a lease instead; the caller leases from Postgres, grants, and runs it again.
 */
const RESERVE = new RedisScript(`
local now = tonumber(ARGV[1])
local nb = tonumber(ARGV[2])
local allowLease = ARGV[3] == '1'
local resTtl = tonumber(ARGV[4])
local avail, free = {}, {}
for i = 1, nb do
  local limit = tonumber(ARGV[3 + 2 * i])
  local h = redis.call('HMGET', KEYS[1 + i], 'used', 'cap', 'limit', 'free')
  local used = tonumber(h[1]) or 0
  local a = math.min(tonumber(h[2]) or 0, limit) - used
  if a < 0 then a = 0 end
  avail[i] = a
  local f = tonumber(h[4])
  if f == nil or tonumber(h[3]) ~= limit then f = -1 end
  free[i] = f
end
local first = 5 + 2 * nb
local m = (#ARGV - first + 1) / 2
local states, need = {}, 0
for j = 1, m do
  local r = redis.call('HMGET', KEYS[1 + nb + j], 's', 'n', 't')
  if r[1] then
    states[j] = r[1] .. ':' .. r[2] .. ':' .. r[3]
  else
    states[j] = false
    need = need + tonumber(ARGV[first + 2 * j - 1])
  end
end
if allowLease and need > 0 then
  local asks = {}
  for i = 1, nb do
    if avail[i] < need and free[i] ~= 0 then
      asks[#asks + 1] = i
      asks[#asks + 1] = need - avail[i]
    end
  end
  if #asks > 0 then return {0, asks} end
end
local buckets = table.concat(KEYS, ' ', 2, 1 + nb)
local codes, blocked, taken, stopped = {}, {}, 0, false
for j = 1, m do
  if states[j] then
    codes[j] = states[j]
  elseif stopped then
    codes[j] = 'd'
  else
    local units = tonumber(ARGV[first + 2 * j - 1])
    for i = 1, nb do
      if avail[i] - taken < units then blocked[#blocked + 1] = i end
    end
    if #blocked == 0 then
      taken = taken + units
      local rk = KEYS[1 + nb + j]
      redis.call('HSET', rk, 's', 'r', 'n', units, 't', now, 'b', buckets)
      redis.call('PEXPIRE', rk, resTtl)
      redis.call('ZADD', KEYS[1], now, ARGV[first + 2 * j - 2])
      codes[j] = 'a'
    else
      stopped = true
      codes[j] = 'd'
    end
  end
end
local remaining = {}
for i = 1, nb do
  if taken > 0 then
    redis.call('HINCRBY', KEYS[1 + i], 'used', taken)
    redis.call('PEXPIRE', KEYS[1 + i], ARGV[4 + 2 * i])
  end
  local f = free[i]
  if f < 0 then f = 0 end
  remaining[i] = avail[i] - taken + f
end
return {1, codes, blocked, remaining}
`);

/** Adds leased units to windows' caps, with what Postgres had left and the limit it was for. */
const GRANT = new RedisScript(`
for i = 1, #KEYS do
  local o = (i - 1) * 4
  redis.call('HINCRBY', KEYS[i], 'cap', ARGV[o + 1])
  redis.call('HSET', KEYS[i], 'free', ARGV[o + 2], 'limit', ARGV[o + 3])
  redis.call('PEXPIRE', KEYS[i], ARGV[o + 4])
end
return #KEYS
`);

const COMMIT = new RedisScript(`
local s = redis.call('HGET', KEYS[1], 's')
if not s then return 'unknown' end
if s == 'c' then return 'already_committed' end
if s == 'f' then return 'refunded' end
redis.call('HSET', KEYS[1], 's', 'c')
redis.call('ZREM', KEYS[2], ARGV[1])
return 'committed'
`);

// Refund is idempotent: only a reservation still in state r gives its units back, once.
const REFUND = new RedisScript(`
local h = redis.call('HMGET', KEYS[1], 's', 'n', 'b')
if not h[1] then return 'unknown' end
if h[1] == 'c' then return 'committed' end
if h[1] == 'f' then return 'already_refunded' end
if h[3] ~= table.concat(KEYS, ' ', 3, #KEYS) then
  return redis.error_reply('refund keys do not match the reservation')
end
local n = tonumber(h[2])
for i = 3, #KEYS do
  local used = tonumber(redis.call('HGET', KEYS[i], 'used'))
  if used then redis.call('HSET', KEYS[i], 'used', math.max(used - n, 0)) end
end
redis.call('HSET', KEYS[1], 's', 'f')
redis.call('ZREM', KEYS[2], ARGV[1])
return 'refunded'
`);

/** COMMIT for many reservations in one call: KEYS[1] the pending set, then one key per id (ARGV). */
const COMMIT_MANY = new RedisScript(`
local out = {}
for j = 1, #ARGV do
  local rk = KEYS[1 + j]
  local s = redis.call('HGET', rk, 's')
  if not s then out[j] = 'unknown'
  elseif s == 'c' then out[j] = 'already_committed'
  elseif s == 'f' then out[j] = 'refunded'
  else
    redis.call('HSET', rk, 's', 'c')
    redis.call('ZREM', KEYS[1], ARGV[j])
    out[j] = 'committed'
  end
end
return out
`);

/**
 * REFUND for many reservations in one call. KEYS[1] the pending set, then per reservation its
 * key followed by its bucket keys; ARGV per reservation: id, bucket count.
 */
const REFUND_MANY = new RedisScript(`
local out, k = {}, 2
for j = 1, #ARGV / 2 do
  local id, nb = ARGV[2 * j - 1], tonumber(ARGV[2 * j])
  local rk = KEYS[k]
  local h = redis.call('HMGET', rk, 's', 'n', 'b')
  if not h[1] then out[j] = 'unknown'
  elseif h[1] == 'c' then out[j] = 'committed'
  elseif h[1] == 'f' then out[j] = 'already_refunded'
  elseif h[3] ~= table.concat(KEYS, ' ', k + 1, k + nb) then
    return redis.error_reply('refund keys do not match the reservation')
  else
    local n = tonumber(h[2])
    for i = k + 1, k + nb do
      local used = tonumber(redis.call('HGET', KEYS[i], 'used'))
      if used then redis.call('HSET', KEYS[i], 'used', math.max(used - n, 0)) end
    end
    redis.call('HSET', rk, 's', 'f')
    redis.call('ZREM', KEYS[1], id)
    out[j] = 'refunded'
  end
  k = k + 1 + nb
end
return out
`);

export interface ReserveItem {
  readonly id: string;
  readonly units: number;
}

/** Per item: `a` admitted, `d` denied, or the state of an existing reservation (`r`, `c`, `f`). */
export type ItemCode =
  | { readonly code: 'a' | 'd' }
  | { readonly code: 'r' | 'c' | 'f'; readonly units: number; readonly reservedAt: number };

export type RedisReserveReply =
  | { readonly kind: 'lease'; readonly asks: readonly { readonly bucket: number; readonly units: number }[] }
  | {
      readonly kind: 'done';
      readonly items: readonly ItemCode[];
      /** Indexes of the buckets that stopped the first denied item. */
      readonly blocked: readonly number[];
      readonly remaining: readonly number[];
    };

export class RedisQuotaStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  bucketKey(bucket: Pick<Bucket, 'scope' | 'windowId'>): string {
    return this.keys.key('quota', bucket.scope, bucket.windowId);
  }

  async reserve(
    buckets: readonly Bucket[],
    items: readonly ReserveItem[],
    now: number,
    allowLease: boolean,
    reservationTtlMs: number,
  ): Promise<RedisReserveReply> {
    const keys = [
      this.pendingKey(),
      ...buckets.map((b) => this.bucketKey(b)),
      ...items.map((item) => this.reservationKey(item.id)),
    ];
    const args: (string | number)[] = [now, buckets.length, allowLease ? 1 : 0, reservationTtlMs];
    for (const b of buckets) args.push(b.limit, ttlMs(b.expireAt, now));
    for (const item of items) args.push(item.id, item.units);
    const reply = (await RESERVE.run(this.redis, keys, args)) as [number, unknown[], unknown[]?, unknown[]?];
    if (reply[0] === 0) {
      const flat = reply[1].map(Number);
      const asks: { bucket: number; units: number }[] = [];
      for (let i = 0; i < flat.length; i += 2) asks.push({ bucket: flat[i]! - 1, units: flat[i + 1]! });
      return { kind: 'lease', asks };
    }
    return {
      kind: 'done',
      items: reply[1].map((c) => parseCode(String(c))),
      blocked: (reply[2] ?? []).map((i) => Number(i) - 1),
      remaining: (reply[3] ?? []).map(Number),
    };
  }

  async grant(
    grants: readonly { readonly bucket: Bucket; readonly units: number; readonly free: number }[],
    now: number,
  ): Promise<void> {
    if (grants.length === 0) return;
    const args: (string | number)[] = [];
    for (const g of grants) args.push(g.units, g.free, g.bucket.limit, ttlMs(g.bucket.expireAt, now));
    await GRANT.run(
      this.redis,
      grants.map((g) => this.bucketKey(g.bucket)),
      args,
    );
  }

  async commit(id: string): Promise<CommitOutcome> {
    return (await COMMIT.run(
      this.redis,
      [this.reservationKey(id), this.pendingKey()],
      [id],
    )) as CommitOutcome;
  }

  async refund(id: string): Promise<RefundOutcome> {
    const stored = await this.redis.hget(this.reservationKey(id), 'b');
    if (stored === null) return 'unknown';
    const buckets = stored === '' ? [] : stored.split(' ');
    return (await REFUND.run(
      this.redis,
      [this.reservationKey(id), this.pendingKey(), ...buckets],
      [id],
    )) as RefundOutcome;
  }

  /** Commits many reservations in one call; the outcomes in the order of `ids`. */
  async commitMany(ids: readonly string[]): Promise<CommitOutcome[]> {
    if (ids.length === 0) return [];
    return (await COMMIT_MANY.run(
      this.redis,
      [this.pendingKey(), ...ids.map((id) => this.reservationKey(id))],
      ids,
    )) as CommitOutcome[];
  }

  /**
   * Refunds many reservations: one pipelined read of the buckets each was taken from, one call
   * that gives the units back. The outcomes in the order of `ids`.
   */
  async refundMany(ids: readonly string[]): Promise<RefundOutcome[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.reservationKey(id), 'b');
    const replies = (await pipeline.exec()) ?? [];
    const outcomes: (RefundOutcome | undefined)[] = [];
    const keys = [this.pendingKey()];
    const args: (string | number)[] = [];
    const asked: number[] = [];
    ids.forEach((id, i) => {
      const [error, stored] = replies[i] ?? [new Error('no reply')];
      if (error) throw error;
      if (typeof stored !== 'string') {
        outcomes[i] = 'unknown';
        return;
      }
      const buckets = stored === '' ? [] : stored.split(' ');
      keys.push(this.reservationKey(id), ...buckets);
      args.push(id, buckets.length);
      asked.push(i);
    });
    if (asked.length > 0) {
      const replied = (await REFUND_MANY.run(this.redis, keys, args)) as RefundOutcome[];
      asked.forEach((i, j) => (outcomes[i] = replied[j]));
    }
    return outcomes.map((o) => o ?? 'unknown');
  }

  /** Reservations still in state `reserved` that were made at or before `before`. */
  async pending(before: number, limit: number): Promise<PendingReservation[]> {
    const ids = await this.redis.zrangebyscore(this.pendingKey(), '-inf', before, 'LIMIT', 0, limit);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hmget(this.reservationKey(id), 's', 'n', 't');
    const replies = (await pipeline.exec()) ?? [];
    const found: PendingReservation[] = [];
    const stale: string[] = [];
    ids.forEach((id, i) => {
      const [s, n, t] = (replies[i]?.[1] ?? []) as (string | null)[];
      if (s === 'r') found.push({ id, backend: 'redis', units: Number(n), reservedAt: Number(t) });
      else stale.push(id);
    });
    if (stale.length > 0) await this.redis.zrem(this.pendingKey(), ...stale);
    return found;
  }

  /** `used` and `cap` of each bucket (0 when absent). */
  async usage(buckets: readonly Bucket[]): Promise<{ used: number; cap: number }[]> {
    const pipeline = this.redis.pipeline();
    for (const b of buckets) pipeline.hmget(this.bucketKey(b), 'used', 'cap');
    const replies = (await pipeline.exec()) ?? [];
    return buckets.map((_, i) => {
      const [used, cap] = (replies[i]?.[1] ?? []) as (string | null)[];
      return { used: Number(used ?? 0), cap: Number(cap ?? 0) };
    });
  }

  private reservationKey(id: string): string {
    return this.keys.key('quota', 'res', id);
  }

  private pendingKey(): string {
    return this.keys.key('quota', 'pending');
  }
}

/**
 * Expiry as a TTL from the caller's clock, never an absolute instant: Redis would compare an
 * absolute one with its own clock, and the scripts must not depend on the server's time.
 */
function ttlMs(expireAt: number, now: number): number {
  return Math.max(1000, Math.ceil(expireAt - now));
}

function parseCode(value: string): ItemCode {
  if (value === 'a' || value === 'd') return { code: value };
  const [state, units, at] = value.split(':');
  if (state !== 'r' && state !== 'c' && state !== 'f')
    throw new Error(`unexpected reservation state ${value}`);
  return { code: state, units: Number(units), reservedAt: Number(at) };
}
