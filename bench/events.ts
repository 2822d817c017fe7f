import autocannon from 'autocannon';
import { uuidv7 } from '@herald/contacts';
import { AnalyticsReader, RollupFolder } from '@herald/engagement';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { startBenchFleet } from './fleet';

/**
 * Engagement events into the analytics, on this machine, in one run (issue 12 item 9):
 *  1. a campaign with D deliveries (sent over 30 days) in the ledger;
 *  2. N provider-shaped events (SendGrid's Event Webhook fields: sg_event_id, event, timestamp,
 *     the message's id) for those deliveries, loaded by a raw COPY (pg-copy-streams) into
 *     engagement_events — the floor — then, the table emptied, ingested through the api
 *     (POST /v1/engagement-events, 1000 a request, a few requests in flight) into the events
 *     AND the rollups; the rollups are checked against the events;
 *  3. beat's fold of the deltas those events left;
 *  4. GET /v1/analytics/campaigns/:id under autocannon: the campaign has D deliveries.
 * Postgres and Redis are local; the api is a real process (`dist/apps/api`).
 */
interface Options {
  events: number;
  deliveries: number;
  batch: number;
  inFlight: number;
  connections: number;
  duration: number;
}

function parse(args: string[]): Options {
  const get = (name: string, fallback: number) => {
    const arg = args.find((a) => a.startsWith(`--${name}=`));
    const value = arg ? Number(arg.split('=')[1]) : fallback;
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
    return value;
  };
  const events = get('events', 1_000_000);
  return {
    events,
    deliveries: get('deliveries', Math.max(events, 1_000_000)),
    batch: get('batch', 1000),
    inFlight: get('in-flight', 4),
    connections: get('connections', 16),
    duration: get('duration', 10),
  };
}

/** A SendGrid Event Webhook entry, as the provider posts it (the fields the mapping reads). */
interface ProviderEvent {
  sg_event_id: string;
  event: 'delivered' | 'open' | 'click';
  timestamp: number;
  herald_delivery_id: string;
  url?: string;
}

const KIND_OF = { delivered: 'delivered', open: 'opened', click: 'clicked' } as const;
/** Six delivered, three opens, one click in ten: deliveries get several events, some twice. */
const MIX: ProviderEvent['event'][] = [
  'delivered',
  'open',
  'delivered',
  'delivered',
  'open',
  'click',
  'delivered',
  'open',
  'delivered',
  'delivered',
];

function providerEvents(n: number, deliveryIds: readonly string[], now: number): ProviderEvent[] {
  const events: ProviderEvent[] = [];
  for (let i = 0; i < n; i++) {
    const event = MIX[i % MIX.length]!;
    events.push({
      sg_event_id: `sg-${i}`,
      event,
      timestamp: Math.floor(now / 1000) - (i % (30 * 86_400)),
      herald_delivery_id: deliveryIds[(i * 7919) % deliveryIds.length]!,
      ...(event === 'click' ? { url: 'https://example.com/pricing' } : {}),
    });
  }
  return events;
}

export async function runEventsBenchmark(args: string[]): Promise<void> {
  const options = parse(args);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const started = performance.now();
  const fleet = await startBenchFleet();
  const { db } = fleet;
  const dataSource = new DataSource({ type: 'postgres', url: fleet.databaseUrl, poolSize: 2 });
  try {
    const api = await fleet.start(
      'api',
      fleet.env({ READY_REQUIRE_WORKERS: 'false', DATABASE_POOL_MAX: '10' }),
    );
    await dataSource.initialize();
    const tenant = await fleet.tenant(api);
    const { key } = tenant;
    const account = randomUUID();
    const campaign = randomUUID();
    await db.query(
      `INSERT INTO sender_accounts (tenant_id, id, name, channel, credentials, time_zone) VALUES ($1, $2, 'Bench', 'webhook', 'x', 'UTC')`,
      [tenant.id, account],
    );
    await db.query(
      `INSERT INTO campaigns (tenant_id, id, name, kind, sender_account_id, steps) VALUES ($1, $2, 'Bench', 'sequence', $3, $4)`,
      [tenant.id, campaign, account, JSON.stringify([{ body: 'a' }, { body: 'b' }, { body: 'c' }])],
    );

    // 1. The ledger: D sent deliveries over the last 30 days, three steps, two variants.
    let t0 = performance.now();
    const CHUNK = 200_000;
    for (let first = 0; first < options.deliveries; first += CHUNK) {
      await db.query(
        `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, contact_id, sender_account_id, channel, step,
                                 status, sent_at, created_at, variant)
         SELECT $1, gen_random_uuid(), 'bench-' || i, $2, gen_random_uuid(), $3, 'webhook', i % 3, 'sent',
                now() - (i % 2592000) * interval '1 second', now() - (i % 2592000) * interval '1 second' - interval '1 minute',
                CASE WHEN i % 2 = 0 THEN 'A' ELSE 'B' END
           FROM generate_series($4::int, $5::int) AS i`,
        [tenant.id, campaign, account, first, Math.min(first + CHUNK, options.deliveries) - 1],
      );
    }
    const seedMs = performance.now() - t0;
    const deliveryIds = (
      await db.query<{ id: string }>(`SELECT id FROM deliveries WHERE tenant_id = $1`, [tenant.id])
    ).rows.map((r) => r.id);
    const dims = new Map(
      (
        await db.query<{ id: string; step: number; variant: string }>(
          `SELECT id, step, variant FROM deliveries WHERE tenant_id = $1`,
          [tenant.id],
        )
      ).rows.map((r) => [r.id, r]),
    );
    // The ledger's deltas (targeted, sent) into the rollups first: what follows appends only the events'.
    await new RollupFolder(dataSource).fold();
    await db.query('VACUUM ANALYZE deliveries');
    log(
      `# events benchmark: ${options.events} events for a campaign of ${options.deliveries} deliveries (seeded in ${(seedMs / 1000).toFixed(1)} s)`,
    );

    const events = providerEvents(options.events, deliveryIds, Date.now());

    // 2a. The floor: the same events by a raw COPY into engagement_events (dimensions given, no rollups).
    // Its input is built before the clock starts: the floor is Postgres taking rows, nothing else.
    const chunks: string[] = [];
    let chunk = '';
    for (const e of events) {
      const d = dims.get(e.herald_delivery_id)!;
      chunk += `${tenant.id}\t${uuidv7()}\t${KIND_OF[e.event]}\tsendgrid\t${e.sg_event_id}\t${new Date(e.timestamp * 1000).toISOString()}\t${e.herald_delivery_id}\t${campaign}\t${d.step}\t${d.variant}\t${account}\t${e.url ?? '\\N'}\n`;
      if (chunk.length > 1 << 20) {
        chunks.push(chunk);
        chunk = '';
      }
    }
    if (chunk) chunks.push(chunk);
    await db.query('CHECKPOINT');
    t0 = performance.now();
    const copy = db.query(
      copyFrom(
        `COPY engagement_events (tenant_id, id, kind, source, source_event_id, occurred_at, delivery_id, campaign_id, step, variant, sender_account_id, url) FROM STDIN`,
      ),
    );
    await pipeline(Readable.from(chunks), copy);
    const copyMs = performance.now() - t0;
    await db.query(`TRUNCATE engagement_events`);
    await db.query('CHECKPOINT');

    // 2b. Through the api: POST /v1/engagement-events, `batch` events a request, `inFlight` at once.
    const bodies: string[] = [];
    for (let i = 0; i < events.length; i += options.batch)
      bodies.push(
        JSON.stringify({
          events: events.slice(i, i + options.batch).map((e) => ({
            event_id: e.sg_event_id,
            kind: KIND_OF[e.event],
            delivery_id: e.herald_delivery_id,
            occurred_at: new Date(e.timestamp * 1000).toISOString(),
            ...(e.url ? { url: e.url } : {}),
          })),
        }),
      );
    let next = 0;
    let recorded = 0;
    t0 = performance.now();
    await Promise.all(
      Array.from({ length: options.inFlight }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++]!;
          const res = await fetch(`${api.publicUrl}/v1/engagement-events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body,
          });
          const result = (await res.json()) as { recorded: number };
          if (res.status !== 200)
            throw new Error(`ingestion answered ${res.status}: ${JSON.stringify(result).slice(0, 300)}`);
          recorded += result.recorded;
        }
      }),
    );
    const apiMs = performance.now() - t0;
    if (recorded !== options.events) throw new Error(`recorded ${recorded} of ${options.events} events`);

    // The rollups say what the events say: each (delivery, kind) once.
    const [check] = (
      await db.query<{ expected: string; counted: string }>(
        `SELECT (SELECT count(*) FROM (SELECT DISTINCT delivery_id, kind FROM engagement_events WHERE tenant_id = $1) x) AS expected,
                (SELECT coalesce(sum(delivered + opened + clicked), 0) FROM (
                   SELECT delivered, opened, clicked FROM analytics_rollups WHERE tenant_id = $1
                   UNION ALL SELECT delivered, opened, clicked FROM analytics_deltas WHERE tenant_id = $1) y) AS counted`,
        [tenant.id],
      )
    ).rows;
    if (check!.expected !== check!.counted)
      throw new Error(
        `rollups count ${check!.counted} (delivery, kind) pairs, the events ${check!.expected}`,
      );

    // 3. Beat's fold of what the ingestion appended.
    const deltaRows = Number(
      (await db.query<{ n: string }>(`SELECT count(*) AS n FROM analytics_deltas`)).rows[0]!.n,
    );
    t0 = performance.now();
    await new RollupFolder(dataSource).fold();
    const foldMs = performance.now() - t0;
    await db.query('VACUUM ANALYZE analytics_rollups');

    // 4. Reads of the campaign's analytics.
    const read = async (by: string) => {
      const url = `${api.publicUrl}/v1/analytics/campaigns/${campaign}?by=${by}`;
      const probe = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
      if (probe.status !== 200) throw new Error(`analytics answered ${probe.status}`);
      await autocannon({
        url,
        connections: options.connections,
        duration: 1,
        headers: { authorization: `Bearer ${key}` },
      });
      const result = await autocannon({
        url,
        connections: options.connections,
        duration: options.duration,
        headers: { authorization: `Bearer ${key}` },
      });
      if (result.non2xx > 0 || result.errors > 0)
        throw new Error(`analytics read had ${result.non2xx} non-2xx answers and ${result.errors} errors`);
      return result;
    };
    const byDay = await read('day');
    const byVariant = await read('variant');
    // The machine's floor through the same stack and concurrency: a route that does nothing.
    const floor = await autocannon({
      url: `${api.publicUrl}/health`,
      connections: options.connections,
      duration: Math.min(5, options.duration),
    });
    // The read's own SQL (rollups + unfolded deltas for the last 30 days), one at a time, in process.
    const reader = new AnalyticsReader(dataSource);
    const today = new Date().toISOString().slice(0, 10);
    const range = { from: new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10), to: today };
    const sqlMs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const s0 = performance.now();
      await reader.campaign(tenant.id, campaign, 'day', range);
      sqlMs.push(performance.now() - s0);
    }
    sqlMs.sort((a, b) => a - b);
    const sqlP50 = sqlMs[Math.floor(sqlMs.length * 0.5)]!;
    const sqlP99 = sqlMs[Math.floor(sqlMs.length * 0.99)]!;

    const copyRate = options.events / (copyMs / 1000);
    const apiRate = options.events / (apiMs / 1000);
    log('');
    log('| measure | result |');
    log('| --- | --- |');
    log(
      `| raw COPY into engagement_events (pg-copy-streams, same table and indexes, no rollups) | ${fmt(copyRate)} events/s (${copyMs.toFixed(0)} ms) |`,
    );
    log(
      `| POST /v1/engagement-events (${options.batch} a request, ${options.inFlight} in flight) into events and rollups | ${fmt(apiRate)} events/s (${apiMs.toFixed(0)} ms) |`,
    );
    log(`| API ingestion / raw COPY | ${(apiRate / copyRate).toFixed(2)} |`);
    log(`| beat's fold of the ${fmt(deltaRows)} delta rows left | ${foldMs.toFixed(0)} ms |`);
    for (const [label, r] of [
      ['by=day', byDay],
      ['by=variant', byVariant],
    ] as const)
      log(
        `| GET /v1/analytics/campaigns/:id?${label} (${fmt(options.deliveries)} deliveries), ${options.connections} connections, ${options.duration} s | ${fmt(r.requests.average)} req/s; latency p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms |`,
      );
    log(
      `| GET /health (no work: the machine's floor), ${options.connections} connections | ${fmt(floor.requests.average)} req/s; latency p50 ${floor.latency.p50} ms, p99 ${floor.latency.p99} ms |`,
    );
    log(
      `| AnalyticsReader.campaign(by=day, 30 days) alone, 200 sequential calls | p50 ${sqlP50.toFixed(1)} ms, p99 ${sqlP99.toFixed(1)} ms |`,
    );
    log('');
    log(
      JSON.stringify({
        events: options.events,
        deliveries: options.deliveries,
        copy_events_per_s: Math.round(copyRate),
        api_events_per_s: Math.round(apiRate),
        ratio: Number((apiRate / copyRate).toFixed(3)),
        delta_rows: deltaRows,
        fold_ms: Math.round(foldMs),
        read_by_day: {
          rps: Math.round(byDay.requests.average),
          p50_ms: byDay.latency.p50,
          p99_ms: byDay.latency.p99,
        },
        read_by_variant: {
          rps: Math.round(byVariant.requests.average),
          p50_ms: byVariant.latency.p50,
          p99_ms: byVariant.latency.p99,
        },
        health: {
          rps: Math.round(floor.requests.average),
          p50_ms: floor.latency.p50,
          p99_ms: floor.latency.p99,
        },
        reader_sql: { p50_ms: Number(sqlP50.toFixed(2)), p99_ms: Number(sqlP99.toFixed(2)) },
        total_s: Math.round((performance.now() - started) / 1000),
      }),
    );
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await fleet.stop();
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
