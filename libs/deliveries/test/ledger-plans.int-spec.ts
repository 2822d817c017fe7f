import {
  createTestDatabase,
  seedBroadcast,
  testEnvironment,
  testRedisUrl,
  type TestDatabase,
} from '@herald/testing';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { LEDGER_SQL } from '../src/ledger.repository';

const ROWS = 20_000;
const BATCH = 100;

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/**
 * The ledger's statements take their rows by key whatever the planner believes about statuses.
 * Here its statistics say nothing is in flight (analyzed while every delivery was sent), then
 * half the table becomes pending and a batch is sending: what a big broadcast's backlog looks
 * like between two autovacuum runs. A statement that let the planner use a status index read
 * every in-flight row of the tenant (or the whole backlog) for each batch.
 */
describe('ledger statements under a backlog the statistics have not seen', () => {
  let db: TestDatabase;
  let client: Client;
  let keys: { tenantIds: string[]; ids: string[] };

  beforeAll(async () => {
    db = await createTestDatabase();
    const seeded = await seedBroadcast({
      databaseUrl: db.url,
      env: testEnvironment({ DATABASE_URL: db.url, REDIS_URL: testRedisUrl() }),
      contacts: ROWS,
    });
    client = new Client({ connectionString: db.url });
    await client.connect();
    await client.query(`ALTER TABLE deliveries SET (autovacuum_enabled = false)`);
    await client.query(
      `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, run_id, contact_id, sender_account_id, channel, step, status, sent_at)
       SELECT c.tenant_id, gen_random_uuid(), 'bc:' || $2::text || ':' || c.id, $3::uuid, $2::uuid, c.id, $4::uuid, 'webhook', 0, 'sent', now()
         FROM contacts c WHERE c.tenant_id = $1`,
      [seeded.tenantId, seeded.runId, seeded.campaignId, seeded.accountId],
    );
    await client.query(`ANALYZE deliveries`);
    // The backlog the statistics have not seen: half pending, a batch's worth sending.
    await client.query(
      `UPDATE deliveries SET status = CASE WHEN random() < 0.01 THEN 'sending' ELSE 'pending' END, sent_at = NULL
        WHERE id IN (SELECT id FROM deliveries ORDER BY id LIMIT $1)`,
      [ROWS / 2],
    );
    const { rows } = await client.query<{ tenant_id: string; id: string }>(
      `SELECT tenant_id, id FROM deliveries WHERE status = 'pending' ORDER BY id DESC LIMIT $1`,
      [BATCH],
    );
    keys = { tenantIds: rows.map((r) => r.tenant_id), ids: rows.map((r) => r.id) };
  });
  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  const plan = async (sql: string, params: unknown[]): Promise<PlanNode[]> => {
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) ${sql}`,
      params,
    );
    return nodes(rows[0]!['QUERY PLAN'][0].Plan);
  };

  it.each([
    [
      'claim',
      () => [keys.tenantIds, keys.ids, keys.ids.map(() => false), 60_000, randomUUID()],
      LEDGER_SQL.claim,
    ],
    ['markSent', () => [keys.tenantIds, keys.ids, keys.ids.map((id) => `pm-${id}`)], LEDGER_SQL.markSent],
  ] as const)(
    '%s finds its rows by their primary key, never through a status index',
    async (_name, params, sql) => {
      const found = await plan(sql, params());
      const deliveryScans = found.filter((n) => n['Index Name']?.includes('deliveries'));
      expect(deliveryScans.map((n) => n['Index Name'])).toEqual(['pk_deliveries']);
      expect(found.some((n) => n['Index Cond']?.includes('status'))).toBe(false);
    },
  );

  it('a claim through that plan still takes exactly the pending rows of its batch', async () => {
    const sending = await client.query<{ tenant_id: string; id: string }>(
      `SELECT tenant_id, id FROM deliveries WHERE status = 'sending' LIMIT 5`,
    );
    const token = randomUUID();
    const { rows } = await client.query<{ id: string; attempts: number }>(LEDGER_SQL.claim, [
      [...keys.tenantIds, ...sending.rows.map((r) => r.tenant_id)],
      [...keys.ids, ...sending.rows.map((r) => r.id)],
      [...keys.ids.map(() => false), ...sending.rows.map(() => false)],
      60_000,
      token,
    ]);
    expect(sending.rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(keys.ids));
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
  });
});
