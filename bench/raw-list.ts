/**
 * The raw list page for `bench -- import`: what `GET /v1/contacts?limit=50` costs with no
 * framework at all, in its own process like Herald's api. Per request, the work Herald's route
 * cannot skip: the bearer key checked by its HMAC against the one known key (Herald's cached
 * lookup), one token-bucket script on Redis (Herald's rate limit is one such round trip), the
 * same page SQL on a pool of the same size (`pageViews`, Postgres renders each contact's JSON),
 * prepared once per connection,
 * and the same body written — no routing, middleware, validation, log or metrics.
 * Prints its port when listening; stops when its stdin ends.
 * argv: <database url> <redis url> <api key> <tenant id> <pool size> <application_name of its
 * Postgres sessions, for the bench to find their CPU time>
 */
import { pageViews } from '@herald/contacts';
import { keysetPage } from '@herald/persistence';
import { Redis } from 'ioredis';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';

const [databaseUrl, redisUrl, apiKey, tenantId, poolArg, applicationName] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const PEPPER = 'raw-list';
const digest = (token: string) => createHmac('sha256', PEPPER).update(token).digest();
const expected = digest(apiKey);

const BUCKET = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(s[1]) or tonumber(ARGV[2])
local at = tonumber(s[2]) or now
tokens = math.min(tonumber(ARGV[2]), tokens + math.max(0, now - at) * tonumber(ARGV[1]) / 1000)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1 allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 60000)
return allowed`;

async function main(): Promise<void> {
  const pool = new Pool({
    connectionString: databaseUrl,
    max: Number(poolArg),
    application_name: applicationName,
  });
  // A named statement: Postgres plans it once per connection instead of once per request (the
  // strongest setting measured; Herald's TypeORM queries are unnamed: docs/benchmarks.md).
  const db = {
    query: async <T>(sql: string, params: unknown[]) =>
      (await pool.query({ name: 'contacts-page', text: sql, values: params })).rows as T,
  };
  const redis = new Redis(redisUrl);
  const sha = (await redis.script('LOAD', BUCKET)) as string;
  const bucketKey = `raw-list:bucket:${tenantId}`;

  const server = createServer((req, res) => {
    const presented = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!presented || !timingSafeEqual(digest(presented), expected)) {
      res.writeHead(401).end();
      return;
    }
    void (async () => {
      const allowed = (await redis.evalsha(sha, 1, bucketKey, 1_000_000, 1_000_000)) as number;
      if (allowed !== 1) {
        res.writeHead(429).end();
        return;
      }
      const views = await pageViews(db, tenantId, {}, null, 51);
      const page = keysetPage(views!, 50);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(
        `{"data":[${page.rows.map((r) => r.json).join(',')}],"next_cursor":${JSON.stringify(page.nextCursor)}}`,
      );
    })().catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
  });
  process.stdin.resume();
  process.stdin.on('end', () => {
    server.close();
    void Promise.all([pool.end(), redis.quit()]).then(() => process.exit(0));
  });
}

void main();
