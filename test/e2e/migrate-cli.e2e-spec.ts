import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const MIGRATE = join(__dirname, '../../dist/libs/persistence/src/cli/migrate.js');
const MIGRATIONS_DIR = join(__dirname, '../../libs/persistence/src/migrations');

/** The built migrate CLI as `npm run migration:*` runs it, with no database configured. */
function migrate(...args: string[]) {
  const result = spawnSync(process.execPath, [MIGRATE, ...args], {
    env: { PATH: process.env.PATH ?? '' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('migrate CLI: no migration is generated from a model', () => {
  it('refuses generate, pointing at the ADR, without touching a database or writing a file', () => {
    const before = readdirSync(MIGRATIONS_DIR);
    const result = migrate('generate', 'AddThing');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('docs/adr/0003-sql-first-schema.md');
    expect(result.stderr).toContain('npm run migration:create -- <PascalName>');
    expect(result.stdout).toBe('');
    expect(readdirSync(MIGRATIONS_DIR)).toEqual(before);
  });

  it('answers bad usage with exit 2', () => {
    const badName = migrate('create', 'add_thing');
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('PascalCase');
    const noCommand = migrate();
    expect(noCommand.code).toBe(2);
    expect(noCommand.stderr).toContain('usage: migrate');
  });
});
