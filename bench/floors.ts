import { hashTaggedPrefix } from '@herald/queues';
import { createTestDatabase, seedBroadcast, WebhookSink } from '@herald/testing';
import { Queue } from 'bullmq';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connectLanes, inLanes, ledgerBatch } from './ledger-lanes';
import { cpuSeconds } from './proc-stats';

/**
 * The ceilings a delivery cannot beat on this machine, measured in the same run as Herald:
 * the queue (raw BullMQ, no-op jobs) and the ledger (the SQL every delivery needs, bare) — the
 * floor issue #16 holds Herald against is the lower of the two — and the whole of a webhook
 * delivery with no framework (that SQL plus the signed POST to the same sink), which is what
 * Herald does and the two floors leave out.
 */

export interface Setting {
  setting: string;
  perSecond: number;
}

/**
 * Raw BullMQ at its best single-process setting: all N no-op jobs enqueued with `addBulk`
 * first, then one worker process drains them; each concurrency is tried and the best kept.
 */
export async function rawBullmq(
  redisUrl: string,
  n: number,
  concurrencies: readonly number[],
): Promise<{ best: Setting; tried: Setting[] }> {
  return tryEach(concurrencies, async (concurrency) => ({
    setting: `concurrency ${concurrency}`,
    perSecond: await drainNoop(redisUrl, n, concurrency),
  }));
}

async function drainNoop(redisUrl: string, n: number, concurrency: number): Promise<number> {
  const prefix = hashTaggedPrefix(`bench-noop-${randomUUID()}`);
  const queue = new Queue('noop', { connection: { url: redisUrl }, prefix });
  for (let i = 0; i < n; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ name: 'noop', data: { i: i + k } })),
    );
  }
  const child = spawn(
    process.execPath,
    [join(__dirname, 'noop-worker.js'), redisUrl, prefix, 'noop', String(n), String(concurrency)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout });
  const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
  await next(); // ready: connected, nothing taken yet
  child.stdin.write('go\n');
  const { elapsed_ms } = JSON.parse(await next()) as { elapsed_ms: number };
  await queue.obliterate({ force: true });
  await queue.close();
  return (n / elapsed_ms) * 1000;
}

/**
 * The ledger's floor: for N contacts, in batches of `batch`, the three statements a delivery
 * needs — insert the row (as the fan-out does), claim it (LEDGER_SQL.claim) and record it sent
 * with its interaction (LEDGER_SQL.markSent) — as bare SQL on `lanes` connections at once,
 * nothing else in between. Each lane count is tried and the best kept.
 */
export async function sqlFloor(
  postgresUrl: string,
  env: Record<string, string>,
  n: number,
  batch: number,
  laneCounts: readonly number[],
): Promise<{ best: Setting; tried: Setting[] }> {
  return tryEach(laneCounts, async (lanes) => ({
    setting: `${lanes} connection(s)`,
    perSecond: await ledgerRate(postgresUrl, env, n, batch, lanes),
  }));
}

async function ledgerRate(
  postgresUrl: string,
  env: Record<string, string>,
  n: number,
  batch: number,
  lanes: number,
): Promise<number> {
  const db = await createTestDatabase(postgresUrl);
  const seeded = await seedBroadcast({ databaseUrl: db.url, env, contacts: n });
  const clients = await connectLanes(db.url, lanes);
  try {
    const { rows } = await clients[0]!.query<{ id: string }>(
      `SELECT id FROM contacts WHERE tenant_id = $1 ORDER BY id`,
      [seeded.tenantId],
    );
    const started = performance.now();
    await inLanes(
      clients,
      rows.map((r) => r.id),
      batch,
      (client, contactIds) =>
        ledgerBatch(client, seeded, contactIds, (inserted) =>
          Promise.resolve(inserted.map((r) => `floor-${r.id}`)),
        ),
    );
    return (n / (performance.now() - started)) * 1000;
  } finally {
    await Promise.all(clients.map((c) => c.end()));
    await db.drop();
  }
}

export interface RawDelivery extends Setting {
  /** CPU per delivery of the raw loop's process, its Postgres backends and the sink. */
  cpuMsPerDelivery: { loop: number; postgres: number; sink: number };
}

/**
 * The raw webhook delivery (bench/raw-delivery.ts) on `lanes` connections at once, batches of
 * `batch`, against a fresh sink that verifies every signature; each lane count is tried and the
 * best kept. Every contact must reach the sink exactly once, or the figure is refused.
 */
export async function rawDeliveryFloor(
  postgresUrl: string,
  env: Record<string, string>,
  n: number,
  batch: number,
  laneCounts: readonly number[],
): Promise<{ best: RawDelivery; tried: RawDelivery[] }> {
  return tryEach(laneCounts, (lanes) => rawDeliveryRate(postgresUrl, env, n, batch, lanes));
}

const RAW_SECRET = 'raw-bench-secret-0123456789abcdef';

async function rawDeliveryRate(
  postgresUrl: string,
  env: Record<string, string>,
  n: number,
  batch: number,
  lanes: number,
): Promise<RawDelivery> {
  const db = await createTestDatabase(postgresUrl);
  const sink = await WebhookSink.start(RAW_SECRET);
  try {
    const seeded = await seedBroadcast({
      databaseUrl: db.url,
      env,
      contacts: n,
      webhook: { url: sink.url, secret: RAW_SECRET },
    });
    const child = spawn(
      process.execPath,
      [
        join(__dirname, 'raw-delivery.js'),
        db.url,
        sink.url,
        RAW_SECRET,
        seeded.tenantId,
        seeded.runId,
        seeded.campaignId,
        seeded.accountId,
        String(batch),
        String(lanes),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lines = createInterface({ input: child.stdout });
    const next = <T>() =>
      Promise.race([
        new Promise<T>((resolve) => lines.once('line', (line) => resolve(JSON.parse(line) as T))),
        exited.then((code) => {
          throw new Error(`raw delivery loop exited with code ${code}`);
        }),
      ]);
    const { backends } = await next<{ backends: number[] }>();
    const postgresBefore = backends.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const sinkBefore = process.cpuUsage();
    child.stdin.write('go\n');
    const { elapsed_ms, cpu_ms } = await next<{ elapsed_ms: number; cpu_ms: number }>();
    const sinkCpu = process.cpuUsage(sinkBefore);
    const postgres = backends.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - postgresBefore;
    child.stdin.write('end\n');
    await exited;
    if (sink.delivered.size !== n || sink.replays > 0 || sink.badSignatures > 0) {
      throw new Error(
        `raw delivery loop: ${sink.delivered.size} of ${n} delivered, ${sink.replays} replays, ${sink.badSignatures} bad signatures`,
      );
    }
    return {
      setting: `${lanes} connection(s)`,
      perSecond: (n / elapsed_ms) * 1000,
      cpuMsPerDelivery: {
        loop: cpu_ms / n,
        postgres: (postgres * 1000) / n,
        sink: (sinkCpu.user + sinkCpu.system) / 1000 / n,
      },
    };
  } finally {
    await sink.stop();
    await db.drop();
  }
}

/** Each setting measured in turn (never two at once: they would share the cores), the best kept. */
async function tryEach<V, T extends Setting>(
  values: readonly V[],
  measure: (value: V) => Promise<T>,
): Promise<{ best: T; tried: T[] }> {
  const tried: T[] = [];
  for (const value of values) tried.push(await measure(value));
  return { best: tried.reduce((a, b) => (b.perSecond > a.perSecond ? b : a)), tried };
}
