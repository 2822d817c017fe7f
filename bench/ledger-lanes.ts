import { LEDGER_SQL } from '@herald/deliveries';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';

/** The broadcast a floor writes its ledger rows for. */
export interface FloorRun {
  tenantId: string;
  runId: string;
  campaignId: string;
  accountId: string;
}

export interface InsertedRow {
  id: string;
  delivery_key: string;
  contact_id: string;
}

/**
 * The ledger statements of one batch of deliveries, bare: insert the rows (as the fan-out does),
 * claim them (LEDGER_SQL.claim), then, with the provider ids `send` answers for them, record them
 * sent with their interactions (LEDGER_SQL.markSent).
 */
export async function ledgerBatch(
  client: Client,
  run: FloorRun,
  contactIds: readonly string[],
  send: (rows: InsertedRow[]) => Promise<string[]>,
): Promise<void> {
  const { rows } = await client.query<InsertedRow>(
    `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, run_id, contact_id, sender_account_id, channel, step)
     SELECT $1::uuid, gen_random_uuid(), 'bc:' || $2::text || ':' || c, $3::uuid, $2::uuid, c, $4::uuid, 'webhook', 0
       FROM unnest($5::uuid[]) AS c
     ON CONFLICT (tenant_id, delivery_key) DO NOTHING
     RETURNING id, delivery_key, contact_id`,
    [run.tenantId, run.runId, run.campaignId, run.accountId, contactIds],
  );
  const ids = rows.map((r) => r.id);
  const tenants = ids.map(() => run.tenantId);
  await client.query(LEDGER_SQL.claim, [tenants, ids, ids.map(() => false), 60_000, randomUUID()]);
  await client.query(LEDGER_SQL.markSent, [tenants, ids, await send(rows)]);
}

/** `lanes` connections to the database. */
export function connectLanes(databaseUrl: string, lanes: number): Promise<Client[]> {
  return Promise.all(
    Array.from({ length: lanes }, async () => {
      const client = new Client({ connectionString: databaseUrl });
      await client.connect();
      return client;
    }),
  );
}

/** `items` in batches of `size`, each taken by whichever connection is free next. */
export async function inLanes<T>(
  clients: readonly Client[],
  items: readonly T[],
  size: number,
  work: (client: Client, batch: T[]) => Promise<void>,
): Promise<void> {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  let next = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (next < batches.length) await work(client, batches[next++]!);
    }),
  );
}
