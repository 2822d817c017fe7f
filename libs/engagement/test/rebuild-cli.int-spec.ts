import { createTestDatabase, runNodeScript, type ScriptResult, type TestDatabase } from '@herald/testing';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { EngagementRecorder } from '../src';
import { analyticsTenant, insertDeliveries, rollupSnapshot } from './analytics-fixture';

const REBUILD = join(__dirname, '../../../dist/libs/engagement/src/cli/rebuild-analytics.js');

/** `npm run analytics:rebuild` as built, against a real Postgres. */
function rebuild(url: string, ...args: string[]): Promise<ScriptResult> {
  return runNodeScript(REBUILD, args, { PATH: process.env.PATH ?? '', DATABASE_URL: url });
}

describe('analytics:rebuild', () => {
  let database: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    ds = new DataSource({ type: 'postgres', url: database.url });
    await ds.initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await database?.drop();
  });

  it('puts back the rollups the incremental path built, for one tenant or all', async () => {
    const t = await analyticsTenant(ds);
    const ids = await insertDeliveries(
      ds,
      t.id,
      t.contacts.map((contact) => ({ campaign: t.campaign, contact, account: t.accounts[0], step: 0 })),
    );
    await ds.query(
      `UPDATE deliveries SET status = 'sent', sent_at = now() WHERE tenant_id = $1 AND id = ANY($2)`,
      [t.id, ids.slice(0, 3)],
    );
    await ds.transaction((m) =>
      new EngagementRecorder().record(m, {
        tenantId: t.id,
        kind: 'replied',
        source: 'api',
        sourceEventId: 'r1',
        occurredAt: new Date(),
        deliveryId: ids[0],
      }),
    );
    const built = await rollupSnapshot(ds, t.id);
    // Lose the rollups (a restore, a bug): the rebuild recomputes them.
    await ds.query(`DELETE FROM analytics_deltas WHERE tenant_id = $1`, [t.id]);
    await ds.query(`DELETE FROM analytics_rollups WHERE tenant_id = $1`, [t.id]);
    expect(await rollupSnapshot(ds, t.id)).toEqual([]);

    const one = await rebuild(database.url, `--tenant=${t.id}`);
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(new RegExp(`^rebuilt \\d+ rollup rows for tenant ${t.id}\\n$`));
    expect(await rollupSnapshot(ds, t.id)).toEqual(built);

    const all = await rebuild(database.url);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('every tenant');
    expect(await rollupSnapshot(ds, t.id)).toEqual(built);
  });

  it('answers bad usage with exit 2 and touches nothing', async () => {
    const result = await rebuild(database.url, '--tenant=nope');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage: analytics:rebuild');
  });
});
