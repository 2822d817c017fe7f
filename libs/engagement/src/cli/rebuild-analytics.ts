import { loadDatabaseConfig } from '@herald/config';
import { dataSourceOptions } from '@herald/persistence';
import { DataSource } from 'typeorm';
import { RollupRebuilder } from '../analytics/rollup-rebuilder';

const USAGE = 'usage: analytics:rebuild [--tenant=<uuid>]\n';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `npm run analytics:rebuild [-- --tenant=<uuid>]`: recomputes the analytics rollups (one
 * tenant's, or all) from the ledger, the engagement events and the candidates — after a bug
 * fix, a tenant's zone change, or a restore. Safe while Herald runs (see RollupRebuilder).
 * Needs only DATABASE_URL. Exit codes: 0 done, 1 failed, 2 bad usage.
 */
async function main(argv: readonly string[]): Promise<number> {
  let tenant: string | null = null;
  for (const arg of argv) {
    const match = /^--tenant=(.*)$/.exec(arg);
    if (!match || !UUID.test(match[1]!)) {
      process.stderr.write(USAGE);
      return 2;
    }
    tenant = match[1]!.toLowerCase();
  }
  const database = loadDatabaseConfig();
  const dataSource = new DataSource(
    dataSourceOptions({
      url: database.url.reveal(),
      poolMax: 2,
      statementTimeoutMs: 0,
      idleInTransactionTimeoutMs: 0,
      applicationName: 'herald-analytics-rebuild',
    }),
  );
  await dataSource.initialize();
  try {
    const rows = await new RollupRebuilder(dataSource).rebuild(tenant);
    process.stdout.write(`rebuilt ${rows} rollup rows for ${tenant ? `tenant ${tenant}` : 'every tenant'}\n`);
    return 0;
  } finally {
    await dataSource.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `analytics:rebuild failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
