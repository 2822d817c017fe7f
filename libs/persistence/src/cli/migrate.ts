import { loadDatabaseConfig } from '@herald/config';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../data-source-options';
import { MIGRATION_NAME, SQL_FIRST_ADR, writeMigration } from './migration-template';

const USAGE = 'usage: migrate run | revert | status | create <PascalName>\n';

/**
 * `migrate run | revert | status | create <PascalName>`: the only way the schema changes.
 * run, revert and status need only DATABASE_URL; create needs nothing. Exit codes: 0 done,
 * 1 failed, 2 bad usage (and `generate`, retired), 3 (status) pending migrations.
 */
async function main(argv: readonly string[]): Promise<number> {
  const [command, name] = argv;
  switch (command) {
    case 'run':
    case 'revert':
    case 'status':
      return withDataSource((dataSource) => migrate(dataSource, command));
    case 'create':
      return create(name);
    case 'generate':
      process.stderr.write(
        `migration:generate is retired: the schema is hand-written SQL and TypeORM has no entities to diff (${SQL_FIRST_ADR}).\n` +
          'Start an empty migration with `npm run migration:create -- <PascalName>` and write its up and down in SQL.\n',
      );
      return 2;
    case undefined:
    default:
      process.stderr.write(USAGE);
      return 2;
  }
}

async function withDataSource(work: (dataSource: DataSource) => Promise<number>): Promise<number> {
  const database = loadDatabaseConfig();
  const dataSource = new DataSource(
    dataSourceOptions({
      url: database.url.reveal(),
      poolMax: 2,
      statementTimeoutMs: 0,
      idleInTransactionTimeoutMs: database.idleInTransactionTimeoutMs,
      applicationName: 'herald-migrate',
    }),
  );
  await dataSource.initialize();
  try {
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

async function migrate(dataSource: DataSource, command: 'run' | 'revert' | 'status'): Promise<number> {
  switch (command) {
    case 'run': {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      process.stdout.write(
        applied.length ? applied.map((m) => `applied ${m.name}\n`).join('') : 'schema is up to date\n',
      );
      return 0;
    }
    case 'revert':
      await dataSource.undoLastMigration({ transaction: 'each' });
      process.stdout.write('reverted the last migration\n');
      return 0;
    case 'status': {
      const pending = await dataSource.showMigrations();
      process.stdout.write(pending ? 'pending migrations\n' : 'schema is up to date\n');
      return pending ? 3 : 0;
    }
  }
}

function create(name: string | undefined): number {
  if (!name || !MIGRATION_NAME.test(name)) {
    process.stderr.write('create needs a PascalCase name, e.g. `npm run migration:create -- AddContacts`\n');
    return 2;
  }
  // dist/libs/persistence/src/cli → the repository's libs/persistence/src/migrations.
  const dir = join(__dirname, '../../../../../libs/persistence/src/migrations');
  const file = writeMigration(dir, name, Date.now());
  process.stdout.write(
    `wrote ${file}\nwrite its SQL, then add it to libs/persistence/src/migrations/index.ts\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`migrate failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
