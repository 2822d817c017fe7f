import { RedisScript } from '@herald/queues';

/*
 * The fair queue's state, all under the fleet's hash tag (one slot, so it runs on Redis Cluster):
 *   ring       LIST   tenants with queued pages, in round-robin order (in it ⇔ its queue is not empty)
 *   q:<tenant> LIST   the tenant's queued page ids, oldest first
 *   pages      HASH   page id → "<cost>|<payload json>", from push until ack (queued and in flight)
 *   deficit    HASH   tenant → DRR deficit, in deliveries (reset when the tenant leaves the ring)
 *   weight     HASH   tenant → weight (its `delivery_weight`, written by each push)
 *   backlog    HASH   tenant → deliveries queued (not yet dispatched): the fan-out's brake
 *   inflight   ZSET   page id → when it was dispatched (ms): what holds the shared window
 * Per-tenant keys are built here from KEYS[1]'s prefix, as BullMQ's own scripts do.
 */

/**
 * KEYS: ring, pages, weight, backlog, deficit. ARGV: tenant, weight, quantum per unit of weight,
 * then (page id, cost, payload) triples. Queues the pages not already known (queued or in
 * flight) and answers the tenant's backlog in deliveries. A tenant that was not in the ring
 * joins at its head with one quantum of credit (FQ-CoDel's "new flow", RFC 8290): its first
 * pages go out at the next free slot, then it takes its turns like everyone. A tenant whose
 * queue keeps running dry gains at most one quantum each time it comes back.
 */
export const PUSH = new RedisScript(`
local ring, pages, weight, backlog, deficit = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local tenant = ARGV[1]
local q = string.sub(ring, 1, -5) .. 'q:' .. tenant
local wasEmpty = redis.call('LLEN', q) == 0
redis.call('HSET', weight, tenant, ARGV[2])
for i = 4, #ARGV, 3 do
  local id = ARGV[i]
  if redis.call('HSETNX', pages, id, ARGV[i + 1] .. '|' .. ARGV[i + 2]) == 1 then
    redis.call('RPUSH', q, id)
    redis.call('HINCRBY', backlog, tenant, tonumber(ARGV[i + 1]))
  end
end
if wasEmpty and redis.call('LLEN', q) > 0 then
  redis.call('LPUSH', ring, tenant)
  redis.call('HSET', deficit, tenant, tonumber(ARGV[2]) * tonumber(ARGV[3]))
end
return tonumber(redis.call('HGET', backlog, tenant) or '0')
`);

/**
 * KEYS: ring, pages, weight, backlog, deficit, inflight. ARGV: window (pages in flight at most),
 * now (ms), quantum per unit of weight (deliveries).
 * Deficit round robin: the tenant at the ring's head is served while its deficit covers its next
 * page's cost; otherwise it earns its quantum (weight × unit) and goes to the end. A quantum is at
 * least one full page, so every turn serves at least one page and the loop ends. A tenant whose
 * queue empties leaves the ring and forgets its deficit (DRR: an idle tenant banks no credit).
 * Answers the dispatched pages as "<id>|<cost>|<payload>", now counted in flight.
 */
export const TAKE = new RedisScript(`
local ring, pages, weight, backlog, deficit, inflight = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local free = tonumber(ARGV[1]) - redis.call('ZCARD', inflight)
local now, unit = ARGV[2], tonumber(ARGV[3])
local prefix = string.sub(ring, 1, -5)
local out = {}
local turns = 0
while free > 0 do
  local tenant = redis.call('LINDEX', ring, 0)
  if not tenant then break end
  turns = turns + 1
  if turns > 100000 then break end
  local q = prefix .. 'q:' .. tenant
  local id = redis.call('LINDEX', q, 0)
  local page = id and redis.call('HGET', pages, id)
  if not page then
    -- An id without its page (should not happen): drop it; an empty queue leaves the ring.
    if id then redis.call('LPOP', q) end
    if redis.call('LLEN', q) == 0 then
      redis.call('LPOP', ring)
      redis.call('HDEL', deficit, tenant)
      redis.call('HDEL', weight, tenant)
      redis.call('HDEL', backlog, tenant)
    end
  else
    local cost = tonumber(string.match(page, '^(%d+)|'))
    local d = tonumber(redis.call('HGET', deficit, tenant) or '0')
    if d >= cost then
      redis.call('LPOP', q)
      redis.call('HINCRBY', deficit, tenant, -cost)
      redis.call('HINCRBY', backlog, tenant, -cost)
      redis.call('ZADD', inflight, now, id)
      out[#out + 1] = id .. '|' .. page
      free = free - 1
      if redis.call('LLEN', q) == 0 then
        redis.call('LPOP', ring)
        redis.call('HDEL', deficit, tenant)
        redis.call('HDEL', weight, tenant)
        redis.call('HDEL', backlog, tenant)
      end
    else
      local w = tonumber(redis.call('HGET', weight, tenant) or '1')
      redis.call('HINCRBY', deficit, tenant, w * unit)
      redis.call('RPUSH', ring, redis.call('LPOP', ring))
    end
  end
end
return out
`);

/**
 * KEYS: pages, inflight. ARGV: page ids. A dispatched page's work is done (or given up): it frees
 * its slot. An id not in flight (a job from before the fair queue, a second ack) changes nothing.
 */
export const ACK = new RedisScript(`
local n = 0
for i = 1, #ARGV do
  if redis.call('ZREM', KEYS[2], ARGV[i]) == 1 then
    redis.call('HDEL', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n
`);
