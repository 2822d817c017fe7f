import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the decision is written; every refusal of `generate` points here. */
export const SQL_FIRST_ADR = 'docs/adr/0003-sql-first-schema.md';

/** `<timestamp>-<PascalName>.ts` holding class `<PascalName><timestamp>`, as the landed ones. */
export const MIGRATION_NAME = /^[A-Z][A-Za-z0-9]+$/;

/** The text of a new, empty migration: the SQL is written by hand (see SQL_FIRST_ADR). */
export function migrationSource(name: string, timestamp: number): string {
  const className = `${name}${timestamp}`;
  return `import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Why this change (the reader of the schema in a year will ask). */
export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(q: QueryRunner): Promise<void> {
    // The change as SQL, e.g. await q.query(\`ALTER TABLE … ADD COLUMN …\`);
    // Name constraints and indexes (ck_/uq_/idx_/fk_<table>_…) so a later migration can drop them.
  }

  async down(q: QueryRunner): Promise<void> {
    // Undo up() in reverse order.
  }
}
`;
}

/** Writes the empty migration into `dir` (never over an existing file) and returns its path. */
export function writeMigration(dir: string, name: string, timestamp: number): string {
  if (!MIGRATION_NAME.test(name)) throw new Error(`migration name must be PascalCase: ${name}`);
  const file = join(dir, `${timestamp}-${name}.ts`);
  writeFileSync(file, migrationSource(name, timestamp), { flag: 'wx' });
  return file;
}
