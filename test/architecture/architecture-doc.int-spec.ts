import { JOB_NAMES, JOBS, QUEUE_NAMES } from '@herald/queues';
import { createTestDatabase, type TestDatabase } from '@herald/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';

const DOC_PATH = join(__dirname, '../../docs/architecture.md');

/** The rows of the first Markdown table under `### <heading>`, as cells with backticks removed. */
function tableUnder(markdown: string, heading: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.trim() === `### ${heading}`);
  if (start < 0) throw new Error(`docs/architecture.md has no "### ${heading}" section`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,3} /.test(line)) break;
    if (!line.startsWith('|')) {
      if (rows.length > 0) break;
      continue;
    }
    rows.push(
      line
        .slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined)
        .split('|')
        .map((cell) => cell.trim()),
    );
  }
  // Header, then the |---| separator: the rest are the entries.
  return rows.slice(2).map((cells) => cells.map((cell) => cell.replace(/`/g, '')));
}

const names = (cell: string | undefined) =>
  (cell ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);

/**
 * docs/architecture.md shows the queues and tables that exist, no more and no fewer: its lists are
 * compared with the code's queue table and with a freshly migrated database, so a queue, job or
 * migration that adds or drops one fails here until the doc says so.
 */
describe('docs/architecture.md lists what exists', () => {
  const doc = readFileSync(DOC_PATH, 'utf8');

  it('lists every queue of QUEUE_NAMES, each with the jobs JOBS sends to it', () => {
    const rows = tableUnder(doc, 'Queues');
    const documented = rows.map(([queue]) => queue);
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual([...QUEUE_NAMES].sort());
    for (const [queue, jobs] of rows) {
      const expected = JOB_NAMES.filter((job) => JOBS[job].queue === queue);
      expect({ queue, jobs: names(jobs).sort() }).toEqual({ queue, jobs: [...expected].sort() });
    }
  });

  describe('tables', () => {
    let database: TestDatabase;
    let client: Client;
    beforeAll(async () => {
      database = await createTestDatabase();
      client = new Client({ connectionString: database.url });
      await client.connect();
    });
    afterAll(async () => {
      await client.end();
      await database.drop();
    });

    it('lists every table of the migrated schema', async () => {
      const { rows } = await client.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables
          WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
      );
      const existing = rows.map((r) => r.table_name).sort();
      expect(existing).toContain('deliveries'); // the query reads the migrated schema
      const documented = tableUnder(doc, 'Tables').map(([table]) => table);
      expect(new Set(documented).size).toBe(documented.length);
      expect([...documented].sort()).toEqual(existing);
    });
  });

  it('reads tables the way the doc writes them', () => {
    const sample = [
      '### Things',
      '',
      'Text.',
      '',
      '| name  | more        |',
      '| ----- | ----------- |',
      '| `a`   | `x`, `y`    |',
      '| `b`   | z           |',
      '',
      '| other | table |',
      '### Next',
    ].join('\n');
    expect(tableUnder(sample, 'Things').map(([name, more]) => [name, names(more)])).toEqual([
      ['a', ['x', 'y']],
      ['b', ['z']],
    ]);
    expect(() => tableUnder(sample, 'Missing')).toThrow('no "### Missing" section');
  });
});
