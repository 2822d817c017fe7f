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
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import type { Client } from 'pg';
import { connectLanes, inLanes, ledgerBatch, type FloorRun } from './ledger-lanes';

const [databaseUrl, sinkUrl, secret, tenantId, runId, campaignId, accountId, batchArg, lanesArg] =
  process.argv.slice(2) as [string, string, string, string, string, string, string, string, string];
const batch = Number(batchArg);
const run: FloorRun = { tenantId, runId, campaignId, accountId };
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

/** One batch: the ledger statements around a signed POST per row, all of the batch's at once. */
function oneBatch(client: Client, contacts: readonly Contact[]): Promise<void> {
  const byId = new Map(contacts.map((c) => [c.id, c]));
  return ledgerBatch(
    client,
    run,
    contacts.map((c) => c.id),
    (rows) =>
      Promise.all(
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
      ),
  );
}

async function main(): Promise<void> {
  const clients = await connectLanes(databaseUrl, lanes);
  const { rows: contacts } = await clients[0]!.query<Contact>(
    `SELECT id, email, first_name, last_name FROM contacts WHERE tenant_id = $1 ORDER BY id`,
    [tenantId],
  );
  const backends = await Promise.all(
    clients.map(async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid),
  );
  const stdin = createInterface({ input: process.stdin });
  const told = () => new Promise((resolve) => stdin.once('line', resolve));
  process.stdout.write(`${JSON.stringify({ ready: true, backends })}\n`);
  await told();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await inLanes(clients, contacts, batch, oneBatch);
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
