import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';

/** A tenant with a sender account and a campaign, straight in SQL (below every service). */
export async function analyticsTenant(
  ds: DataSource,
  zone = 'UTC',
): Promise<{ id: string; campaign: string; accounts: [string, string]; contacts: string[] }> {
  const id = randomUUID();
  const campaign = randomUUID();
  const accounts: [string, string] = [randomUUID(), randomUUID()];
  await ds.query(`INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'T', $2)`, [id, zone]);
  for (const account of accounts)
    await ds.query(
      `INSERT INTO sender_accounts (tenant_id, id, name, channel, credentials, time_zone) VALUES ($1, $2, $3, 'webhook', 'x', 'UTC')`,
      [id, account, `A ${account.slice(0, 8)}`],
    );
  await ds.query(
    `INSERT INTO campaigns (tenant_id, id, name, kind, sender_account_id, steps) VALUES ($1, $2, 'C', 'sequence', $3, $4)`,
    [id, campaign, accounts[0], JSON.stringify([{ body: 'a' }, { body: 'b' }])],
  );
  const contacts = await ds.query<{ id: string }[]>(
    `INSERT INTO contacts (tenant_id, id, email, created_at)
     SELECT $1, uuidv7(), 'c' || i || '@example.test', now() FROM generate_series(0, 5) AS i RETURNING id`,
    [id],
  );
  return { id, campaign, accounts, contacts: contacts.map((c) => c.id) };
}

/** Inserts deliveries as the fan-out does (one statement), returning their ids. */
export async function insertDeliveries(
  ds: DataSource,
  tenantId: string,
  rows: { campaign: string; contact: string; account: string; step: number; createdAt?: string }[],
): Promise<string[]> {
  const inserted = await ds.query<{ id: string }[]>(
    `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, contact_id, sender_account_id, channel, step, created_at)
     SELECT $1, uuidv7(), 'k-' || gen_random_uuid(), r.campaign, r.contact, r.account, 'webhook', r.step, coalesce(r.created_at, now())
       FROM jsonb_to_recordset($2::jsonb) AS r (campaign uuid, contact uuid, account uuid, step smallint, created_at timestamptz)
     RETURNING id`,
    [tenantId, JSON.stringify(rows.map((r) => ({ ...r, created_at: r.createdAt ?? null })))],
  );
  return inserted.map((r) => r.id);
}

/** A sourcing job and run, for candidates. */
export async function sourcingRun(
  ds: DataSource,
  tenantId: string,
): Promise<{ job: string; run: string; source: string }> {
  const job = randomUUID();
  const run = randomUUID();
  const source = randomUUID();
  await ds.query(
    `INSERT INTO sourcing_jobs (tenant_id, id, name, source_account_id, "limit", scoring_model_id) VALUES ($1, $2, 'J', $3, 100, $4)`,
    [tenantId, job, source, randomUUID()],
  );
  await ds.query(
    `INSERT INTO sourcing_runs (tenant_id, id, job_id, trigger, scoring_model_id, scoring_model_version) VALUES ($1, $2, $3, 'manual', $4, 1)`,
    [tenantId, run, job, randomUUID()],
  );
  return { job, run, source };
}

/** Every rollup key with its values: folded rows plus unfolded deltas, zero rows dropped. */
export async function rollupSnapshot(ds: DataSource, tenantId: string): Promise<string[]> {
  const values = `targeted, sent, delivered, bounced, complained, opened, clicked, replied, unsubscribed, converted, sourced, contacts, revenue`;
  const rows = await ds.query<Record<string, unknown>[]>(
    `SELECT campaign_id, day::text, step, variant, sender_account_id, currency,
            ${values
              .split(', ')
              .map((c) => `sum(${c})::text AS ${c}`)
              .join(', ')}
       FROM (SELECT campaign_id, day, step, variant, sender_account_id, currency, ${values} FROM analytics_rollups WHERE tenant_id = $1
             UNION ALL
             SELECT campaign_id, day, step, variant, sender_account_id, currency, ${values} FROM analytics_deltas WHERE tenant_id = $1) x
      GROUP BY 1, 2, 3, 4, 5, 6
     HAVING ${values
       .split(', ')
       .map((c) => `sum(${c}) <> 0`)
       .join(' OR ')}
      ORDER BY 1, 2, 3, 4, 5, 6`,
    [tenantId],
  );
  return rows.map((r) => JSON.stringify(r));
}
