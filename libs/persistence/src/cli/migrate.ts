import { loadDatabaseConfig } from '@herald/config';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../data-source-options';

/**
 * `migrate run | revert | status | generate <PascalName>`: the only way the schema changes.
 * Needs only DATABASE_URL. Exit codes: 0 done, 1 failed, 2 bad usage, 3 (status) pending migrations.
 */
async function main(argv: readonly string[]): Promise<number> {
  const [command, name] = argv;
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
      case 'generate':
        return generate(dataSource, name);
      case undefined:
      default:
        process.stderr.write('usage: migrate run | revert | status | generate <PascalName>\n');
        return 2;
    }
  } finally {
    await dataSource.destroy();
  }
}

async function generate(dataSource: DataSource, name: string | undefined): Promise<number> {
  if (!name || !/^[A-Z][A-Za-z0-9]+$/.test(name)) {
    process.stderr.write(
      'generate needs a PascalCase name, e.g. `npm run migration:generate -- AddContacts`\n',
    );
    return 2;
  }
  const sql = await dataSource.driver.createSchemaBuilder().log();
  if (sql.upQueries.length === 0) {
    process.stdout.write('no schema changes to generate\n');
    return 0;
  }
  const timestamp = Date.now();
  const quote = (q: string) => '`' + q.replace(/`/g, '\\`') + '`';
  const up = sql.upQueries.map((q) => `    await q.query(${quote(q.query)});`).join('\n');
  const down = [...sql.downQueries]
    .reverse()
    .map((q) => `    await q.query(${quote(q.query)});`)
    .join('\n');
  const file = join(__dirname, '../../../../../libs/persistence/src/migrations', `${timestamp}-${name}.ts`);
  writeFileSync(
    file,
    `import type { MigrationInterface, QueryRunner } from 'typeorm';\n\nexport class ${name}${timestamp} implements MigrationInterface {\n  name = '${name}${timestamp}';\n\n  async up(q: QueryRunner): Promise<void> {\n${up}\n  }\n\n  async down(q: QueryRunner): Promise<void> {\n${down}\n  }\n}\n`,
  );
  process.stdout.write(`wrote ${file}\nadd it to libs/persistence/src/migrations/index.ts\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`migrate failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
