import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { migrationSource, writeMigration } from './migration-template';

describe('migration:create template', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'herald-migration-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes <timestamp>-<Name>.ts holding class <Name><timestamp> with empty up and down', () => {
    const file = writeMigration(dir, 'AddUnknownStatus', 1763890000000);
    expect(file).toBe(join(dir, '1763890000000-AddUnknownStatus.ts'));
    const source = readFileSync(file, 'utf8');
    expect(source).toContain('export class AddUnknownStatus1763890000000 implements MigrationInterface {');
    expect(source).toContain("name = 'AddUnknownStatus1763890000000';");
    expect(source).toMatch(/async up\(q: QueryRunner\): Promise<void> \{\n(\s*\/\/.*\n)*\s*\}/);
    expect(source).toMatch(/async down\(q: QueryRunner\): Promise<void> \{\n(\s*\/\/.*\n)*\s*\}/);
    // Nothing is generated from a diff: the file holds no statement yet.
    expect(source).not.toMatch(/^\s*await /m);
  });

  it('is valid TypeScript', () => {
    const { diagnostics } = ts.transpileModule(migrationSource('AddThing', 1), {
      reportDiagnostics: true,
      compilerOptions: { module: ts.ModuleKind.CommonJS },
    });
    expect(diagnostics).toEqual([]);
  });

  it('refuses a name that is not PascalCase and never overwrites a migration', () => {
    expect(() => writeMigration(dir, 'add_thing', 1)).toThrow('PascalCase');
    expect(() => writeMigration(dir, 'Add-Thing', 1)).toThrow('PascalCase');
    writeMigration(dir, 'AddThing', 1);
    expect(() => writeMigration(dir, 'AddThing', 1)).toThrow(/EEXIST/);
    expect(readdirSync(dir)).toEqual(['1-AddThing.ts']);
  });
});
