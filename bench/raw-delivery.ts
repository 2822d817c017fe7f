/**
 * The raw webhook delivery for `bench -- deliveries`: what one delivery costs with no framework
 * at all, in its own process like Herald's worker. In batches, on `lanes` connections at once: the
 * ledger floor's three statements (insert, LEDGER_SQL.claim, LEDGER_SQL.markSent) with, between
 * claim and record, one signed POST per row to the same sink Herald sends to (the body Herald's
 * webhook channel sends, its headers, an HMAC per call, a kept-alive pool) — no queue, no quota,
 * no breaker, no rendering. It loads what it needs and says so (with its Postgres backends' pids,
 * for their CPU time), starts when told on stdin, prints the elapsed ms and its own CPU time, and
 * exits when told again. argv: <database url> <sink url> <secret> <tenant> <run> <campaign>
 * <account> <batch> <lanes>
 */
import { signWebhook } from '@herald/channels';
import { LEDGER_SQL } from '@herald/deliveries';
import { Agent, request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Client } from 'pg';

const [databaseUrl, sinkUrl, secret, tenantId, runId, campaignId, accountId, batchArg, lanesArg] =
  process.argv.slice(2) as [string, string, string, string, string, string, string, string, string];
const batch = Number(batchArg);
const lanes = Number(lanesArg);
// The same pool shape as the webhook channel's (128 sockets, as many kept idle).
const agent = new Agent({ keepAlive: true, maxSockets: 128, maxFreeSockets: 128 });
const target = new URL(sinkUrl);

interface Contact {
  id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
}

function post(body: string, key: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'Herald/raw-bench',
          'idempotency-key': key,
          'x-herald-signature': signWebhook(secret, body, Math.floor(Date.now() / 1000)),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`sink answered ${res.statusCode}`));
          else resolve((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string }).id);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function oneBatch(client: Client, contacts: Contact[]): Promise<void> {
  const inserted = await client.query<{ id: string; delivery_key: string; contact_id: string }>(
    `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, run_id, contact_id, sender_account_id, channel, step)
     SELECT $1::uuid, gen_random_uuid(), 'bc:' || $2::text || ':' || c, $3::uuid, $2::uuid, c, $4::uuid, 'webhook', 0
       FROM unnest($5::uuid[]) AS c
     ON CONFLICT (tenant_id, delivery_key) DO NOTHING
     RETURNING id, delivery_key, contact_id`,
    [tenantId, runId, campaignId, accountId, contacts.map((c) => c.id)],
  );
  const rows = inserted.rows;
  const ids = rows.map((r) => r.id);
  const tenants = ids.map(() => tenantId);
  await client.query(LEDGER_SQL.claim, [tenants, ids, ids.map(() => false), 60_000, randomUUID()]);
  const byId = new Map(contacts.map((c) => [c.id, c]));
  const providerIds = await Promise.all(
    rows.map((row) => {
      const contact = byId.get(row.contact_id)!;
      const body = JSON.stringify({
        delivery_id: row.id,
        idempotency_key: row.delivery_key,
        campaign_id: campaignId,
        run_id: runId,
        contact: {
          id: contact.id,
          email: contact.email,
          first_name: contact.first_name,
          last_name: contact.last_name,
          external_ref: null,
        },
        subject: `Hello ${contact.first_name ?? ''}`,
        body: `Hi ${contact.first_name ?? ''} ${contact.last_name ?? ''}`,
        html: null,
        headers: {},
      });
      return post(body, row.delivery_key);
    }),
  );
  await client.query(LEDGER_SQL.markSent, [tenants, ids, providerIds]);
}

async function main(): Promise<void> {
  const clients = await Promise.all(
    Array.from({ length: lanes }, async () => {
      const client = new Client({ connectionString: databaseUrl });
      await client.connect();
      return client;
    }),
  );
  const { rows: contacts } = await clients[0]!.query<Contact>(
    `SELECT id, email, first_name, last_name FROM contacts WHERE tenant_id = $1 ORDER BY id`,
    [tenantId],
  );
  const batches: Contact[][] = [];
  for (let i = 0; i < contacts.length; i += batch) batches.push(contacts.slice(i, i + batch));
  const backends = await Promise.all(
    clients.map(async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid),
  );
  const stdin = createInterface({ input: process.stdin });
  const told = () => new Promise((resolve) => stdin.once('line', resolve));
  process.stdout.write(`${JSON.stringify({ ready: true, backends })}\n`);
  await told();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (next < batches.length) await oneBatch(client, batches[next++]!);
    }),
  );
  const elapsed = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  process.stdout.write(
    `${JSON.stringify({ elapsed_ms: elapsed, cpu_ms: (cpu.user + cpu.system) / 1000 })}\n`,
  );
  await told();
  stdin.close();
  await Promise.all(clients.map((c) => c.end()));
  agent.destroy();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
