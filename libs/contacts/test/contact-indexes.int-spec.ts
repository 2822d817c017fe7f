import { createTestDatabase, type TestDatabase } from '@herald/testing';
import { Client } from 'pg';
import {
  buildContactPageQuery,
  buildInteractionPageQuery,
  type ContactFilter,
  type InteractionFilter,
} from '../src';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function walk(node: PlanNode, out: PlanNode[] = []): PlanNode[] {
  out.push(node);
  for (const child of node.Plans ?? []) walk(child, out);
  return out;
}

/**
 * With 100,000 contacts in one tenant (and 20,000 in two others), each list query the API and
 * the campaign fan-out run is served by its own index, which starts with tenant_id: a plan
 * check (EXPLAIN), not a timing.
 */
describe('contact list queries use their indexes (100,000 contacts)', () => {
  let database: TestDatabase;
  let db: Client;
  const tenant = '0190f5e4-0000-7000-8000-000000000001';

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new Client({ connectionString: database.url });
    await db.connect();
    const tenants = [tenant, '0190f5e4-0000-7000-8000-000000000002', '0190f5e4-0000-7000-8000-000000000003'];
    for (const id of tenants)
      await db.query(`INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'T', 'UTC')`, [id]);
    // Contact ids are UUIDv7 whose timestamp is created_at (as the application makes them).
    await db.query(`
      CREATE FUNCTION uuid_v7_at(at timestamptz, n int) RETURNS uuid LANGUAGE sql AS $$
        SELECT (lpad(to_hex((extract(epoch FROM date_trunc('milliseconds', at)) * 1000)::bigint), 12, '0')
          || '7' || lpad(to_hex(n % 4096), 3, '0') || '8' || lpad(to_hex(n), 15, '0'))::uuid $$`);
    for (const [id, rows] of [
      [tenants[0], 100_000],
      [tenants[1], 10_000],
      [tenants[2], 10_000],
    ] as const) {
      await db.query(
        `INSERT INTO contacts (tenant_id, id, email, first_name, last_name, birth_date, status, tags, created_at)
         SELECT $1, uuid_v7_at(now() - ($2::int - g) * interval '1 second', g), 'user' || g || '@example.com',
           CASE WHEN g % 5000 = 0 THEN 'Ada' ELSE 'First' || (g % 1000) END,
           CASE WHEN g % 5000 = 0 THEN 'Lovelace' ELSE 'Last' || (g % 5000) END,
           date '1950-01-01' + (g * 37 % 20000),
           CASE WHEN g % 100 < 90 THEN 'active' WHEN g % 100 < 95 THEN 'unsubscribed' WHEN g % 100 < 98 THEN 'bounced' ELSE 'archived' END,
           CASE WHEN g % 2000 = 0 THEN ARRAY['rare', 't' || (g % 10)] ELSE ARRAY['t' || (g % 10)] END,
           date_trunc('milliseconds', now() - ($2::int - g) * interval '1 second')
         FROM generate_series(1, $2::int) g`,
        [id, rows],
      );
    }
    // Interactions: 60,000 for the big tenant, mostly deliveries, a few replies.
    await db.query(
      `INSERT INTO interactions (tenant_id, id, contact_id, type, payload, created_at)
       SELECT c.tenant_id, gen_random_uuid(), c.id, CASE WHEN g = 3 AND c.birth_date < '1951-01-01' THEN 'reply' ELSE 'delivery_sent' END,
         '{}'::jsonb, c.created_at + g * interval '1 minute'
       FROM (SELECT * FROM contacts WHERE tenant_id = $1 LIMIT 20000) c, generate_series(1, 3) g`,
      [tenant],
    );
    await db.query('VACUUM ANALYZE contacts');
    await db.query('VACUUM ANALYZE interactions');
  }, 180_000);
  afterAll(async () => {
    await db.end();
    await database.drop();
  });

  async function plan(
    filter: ContactFilter,
    after: { createdAt: Date; id: string } | null = null,
  ): Promise<PlanNode[]> {
    const { sql, params } = buildContactPageQuery(tenant, filter, after, 51);
    const result = await db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) ${sql}`,
      params,
    );
    return walk(result.rows[0]!['QUERY PLAN'][0].Plan);
  }

  const cases: [string, ContactFilter, string[]][] = [
    ['the default list (every status but archived)', {}, ['pk_contacts']],
    ['status=bounced', { statuses: ['bounced'] }, ['idx_contacts_tenant_status']],
    ['a tag', { tags: ['rare'] }, ['idx_contacts_tenant_tags']],
    ['birthday (one month-day)', { birthMonthDays: [1231] }, ['idx_contacts_tenant_birthday']],
    [
      'birthday today on 28 February of a common year',
      { birthMonthDays: [228, 229] },
      ['idx_contacts_tenant_birthday'],
    ],
    ['status=active (most contacts: the primary key, filtered)', { statuses: ['active'] }, ['pk_contacts']],
    ['created_after', { createdAfter: new Date(Date.now() - 600_000) }, ['pk_contacts']],
    ['created_before', { createdBefore: new Date(Date.now() - 99_000_000) }, ['pk_contacts']],
    ['q (email or full-name prefix)', { q: 'ada' }, ['uq_contacts_tenant_email', 'idx_contacts_tenant_name']],
  ];

  it.each(cases)('%s', async (_label, filter, indexes) => {
    const nodes = await plan(filter);
    const used = nodes.map((n) => n['Index Name']).filter(Boolean);
    expect(used).toEqual(expect.arrayContaining(indexes));
    expect(nodes.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
  });

  it('a later page (keyset cursor) starts inside the index, not from the beginning', async () => {
    const row = (
      await db.query<{ created_at: Date; id: string }>(
        `SELECT created_at, id FROM contacts WHERE tenant_id = $1 ORDER BY id OFFSET 50000 LIMIT 1`,
        [tenant],
      )
    ).rows[0]!;
    const nodes = await plan({}, { createdAt: row.created_at, id: row.id });
    const scan: (PlanNode & { 'Index Cond'?: string }) | undefined = nodes.find(
      (n) => n['Index Name'] === 'pk_contacts',
    );
    expect(scan?.['Index Cond']).toContain('id >');
  });

  const interactionCases: [string, InteractionFilter, string][] = [
    ['interactions: the default list (newest first)', {}, 'idx_interactions_tenant_created'],
    [
      'interactions: one contact',
      { contactId: '00000000-0000-0000-0000-000000000000' },
      'idx_interactions_tenant_contact',
    ],
    ['interactions: one type', { type: 'reply' }, 'idx_interactions_tenant_type'],
    [
      'interactions: a time range',
      { from: new Date(Date.now() - 3_600_000), to: new Date() },
      'idx_interactions_tenant_created',
    ],
  ];

  it.each(interactionCases)('%s', async (_label, filter, index) => {
    const contact = (await db.query<{ contact_id: string }>(`SELECT contact_id FROM interactions LIMIT 1`))
      .rows[0]!.contact_id;
    const { sql, params } = buildInteractionPageQuery(
      tenant,
      filter.contactId ? { contactId: contact } : filter,
      null,
      51,
    );
    const result = await db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) ${sql}`,
      params,
    );
    const nodes = walk(result.rows[0]!['QUERY PLAN'][0].Plan);
    expect(nodes.map((n) => n['Index Name']).filter(Boolean)).toContain(index);
    expect(nodes.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
  });

  it('every index that serves a tenant query starts with tenant_id', async () => {
    const { rows } = await db.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('contacts', 'interactions', 'suppressions', 'api_keys') ORDER BY indexname`,
    );
    const exceptions = new Set(['uq_api_keys_prefix']); // authentication finds a key before it knows the tenant
    for (const { indexname, indexdef } of rows) {
      if (exceptions.has(indexname)) continue;
      expect({ indexname, leading: /\((contact_tag_keys\()?tenant_id[,)]/.test(indexdef) }).toEqual({
        indexname,
        leading: true,
      });
    }
  });
});
