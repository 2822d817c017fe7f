import { CredentialCipher } from '@herald/channels';
import { loadConfig } from '@herald/config';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';

/**
 * Writes a tenant, contacts, a sender account, a campaign and a run straight into a test
 * database: for engine tests that start below the API. Returns the ids.
 */
export async function seedBroadcast(options: {
  databaseUrl: string;
  env: Record<string, string>;
  contacts: number;
  channel?: 'webhook' | 'smtp' | 'dry-run';
  webhook?: { url: string; secret: string };
  /** The SMTP server of an smtp account (an SmtpSink's port), on loopback. */
  smtp?: { port: number };
  /** The account's policy for a send a crash left unknown; omitted: the channel's default. */
  deliveryGuarantee?: 'at_most_once' | 'at_least_once';
  quotas?: { hourly?: number; daily?: number; weekly?: number };
  quotaPolicy?: 'defer' | 'skip';
  runCap?: number;
  body?: string;
}): Promise<{ tenantId: string; campaignId: string; runId: string; accountId: string }> {
  const client = new Client({ connectionString: options.databaseUrl });
  await client.connect();
  const tenantId = randomUUID();
  const accountId = randomUUID();
  const campaignId = randomUUID();
  const runId = randomUUID();
  try {
    await client.query(`INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'Seeded', 'Europe/Paris')`, [
      tenantId,
    ]);
    await client.query(
      `INSERT INTO contacts (tenant_id, id, email, first_name, last_name, created_at)
       SELECT $1, gen_random_uuid(), 'c' || i || '@example.test', 'First' || i, 'Last', now() + i * interval '1 millisecond'
         FROM generate_series(1, $2::int) AS i`,
      [tenantId, options.contacts],
    );
    const config = loadConfig(options.env);
    const cipher = CredentialCipher.fromConfig(config.security);
    const channel = options.channel ?? 'webhook';
    const accountConfig =
      channel === 'webhook'
        ? (options.webhook ?? { url: 'http://127.0.0.1:9/none', secret: 'x'.repeat(32) })
        : channel === 'smtp'
          ? {
              host: '127.0.0.1',
              port: options.smtp?.port ?? 9,
              secure: false,
              username: 'seeded',
              password: 'seeded-password',
              from: 'Seeded <seeded@example.test>',
            }
          : {};
    await client.query(
      `INSERT INTO sender_accounts (tenant_id, id, name, channel, settings, credentials, quota_hourly, quota_daily, quota_weekly, time_zone, delivery_guarantee)
       VALUES ($1, $2, 'Seeded sender', $3, '{}', $4, $5, $6, $7, 'Europe/Paris', $8)`,
      [
        tenantId,
        accountId,
        channel,
        cipher.encryptJson(accountConfig, `sender_account:${tenantId}:${accountId}`),
        options.quotas?.hourly ?? null,
        options.quotas?.daily ?? null,
        options.quotas?.weekly ?? null,
        options.deliveryGuarantee ?? null,
      ],
    );
    await client.query(
      `INSERT INTO campaigns (tenant_id, id, name, kind, sender_account_id, steps, quota_policy, run_cap)
       VALUES ($1, $2, 'Seeded broadcast', 'broadcast', $3, $4, $5, $6)`,
      [
        tenantId,
        campaignId,
        accountId,
        JSON.stringify([
          { subject: 'Hello {{ first_name }}', body: options.body ?? 'Hi {{ first_name }} {{ last_name }}' },
        ]),
        options.quotaPolicy ?? 'defer',
        options.runCap ?? null,
      ],
    );
    await client.query(
      `INSERT INTO campaign_runs (tenant_id, id, campaign_id, trigger) VALUES ($1, $2, $3, 'manual')`,
      [tenantId, runId, campaignId],
    );
  } finally {
    await client.end();
  }
  return { tenantId, campaignId, runId, accountId };
}
