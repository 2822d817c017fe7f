import { Readable } from 'node:stream';
import { ImportFormatError } from '../errors';
import { readCsv } from './csv-reader';
import type { RawImportRow } from './import-row';

async function read(text: string | Buffer): Promise<RawImportRow[]> {
  const rows: RawImportRow[] = [];
  for await (const row of readCsv(Readable.from([Buffer.from(text)]), { maxDepth: 32 })) rows.push(row);
  return rows;
}

describe('readCsv', () => {
  it('maps the header to fields, leaving empty cells out; tags split on ";", attributes.<name> columns', async () => {
    const rows = await read('email,First_Name,tags,attributes.Plan,birth_date\na@x.io,Ada,vip; news ,pro,\n');
    expect(rows).toEqual([
      {
        row: 1,
        value: { email: 'a@x.io', first_name: 'Ada', tags: ['vip', 'news'], attributes: { Plan: 'pro' } },
      },
    ]);
  });

  it('handles a BOM, CRLF line ends and quoted cells with commas, quotes and newlines', async () => {
    const rows = await read(
      '\ufeffemail,last_name\r\n"a@x.io","O\'Brien, ""Jr"""\r\nb@x.io,"two\r\nlines"\r\n',
    );
    expect(rows).toEqual([
      { row: 1, value: { email: 'a@x.io', last_name: 'O\'Brien, "Jr"' } },
      { row: 2, value: { email: 'b@x.io', last_name: 'two\r\nlines' } },
    ]);
  });

  it('reads a JSON attributes cell; keeps a bad one as text for validation to report', async () => {
    const rows = await read('email,attributes\na@x.io,"{""a"":1}"\nb@x.io,{oops\n');
    expect(rows[0]).toEqual({ row: 1, value: { email: 'a@x.io', attributes: { a: 1 } } });
    expect(rows[1]).toEqual({ row: 2, value: { email: 'b@x.io', attributes: '{oops' } });
  });

  it('reports an attributes cell nested deeper than a row may as a row error naming the field, and goes on', async () => {
    const json = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    const deep = (n: number) => `"${json(n).replaceAll('"', '""')}"`;
    const rows = await read(
      `email,attributes\na@x.io,${deep(31)}\nb@x.io,${deep(32)}\nc@x.io,${'['.repeat(100_000)}\nd@x.io,"{""ok"":[]}"\n`,
    );
    const message = 'is nested deeper than 32 levels of arrays and objects';
    expect(rows[0]!.value).toEqual({ email: 'a@x.io', attributes: JSON.parse(json(31)) as unknown });
    expect(rows.slice(1)).toEqual([
      { row: 2, error: { field: `attributes${'.a'.repeat(31)}`, message } },
      { row: 3, error: { field: `attributes${'.0'.repeat(31)}`, message } },
      { row: 4, value: { email: 'd@x.io', attributes: { ok: [] } } },
    ]);
  });

  it('reports a cell with a NUL, or an attributes cell escaping one, as a row error naming the column', async () => {
    const nul = 'must not contain the NUL character (\\u0000)';
    const rows = await read(
      [
        'email,first_name,attributes.Plan,attributes',
        'a@x.io,A\u0000,,',
        'b@x.io,,p\u0000ro,',
        'c@x.io,,,"{""k"":""\\ud800""}"',
        'd@x.io,,,"""\\u0000"""',
        'e@x.io,E,pro,',
      ].join('\n'),
    );
    expect(rows).toEqual([
      { row: 1, error: { field: 'first_name', message: nul } },
      { row: 2, error: { field: 'attributes.Plan', message: nul } },
      { row: 3, error: { field: 'attributes.k', message: expect.stringMatching(/surrogate/) as string } },
      { row: 4, error: { field: 'attributes', message: nul } },
      { row: 5, value: { email: 'e@x.io', first_name: 'E', attributes: { Plan: 'pro' } } },
    ]);
  });

  it('reports rows with the wrong number of cells and goes on; keeps a stray quote as text', async () => {
    const rows = await read('email,first_name\na@x.io,A\nb@x.io\nc@x.io,"C"x\nd@x.io,D\n');
    expect(rows).toEqual([
      { row: 1, value: { email: 'a@x.io', first_name: 'A' } },
      { row: 2, error: { field: '', message: 'has 1 cells where the header has 2' } },
      { row: 3, value: { email: 'c@x.io', first_name: '"C"x' } },
      { row: 4, value: { email: 'd@x.io', first_name: 'D' } },
    ]);
  });

  it('reports a quote never closed as the last row', async () => {
    const rows = await read('email,first_name\na@x.io,A\nb@x.io,"B\nc@x.io,C\n');
    expect(rows).toEqual([
      { row: 1, value: { email: 'a@x.io', first_name: 'A' } },
      { row: 2, error: { field: '', message: expect.stringContaining('badly quoted') as string } },
    ]);
  });

  it('reads an empty file, and a header without rows, as no rows', async () => {
    expect(await read('')).toEqual([]);
    expect(await read('\ufeff')).toEqual([]);
    expect(await read('email,first_name\r\n')).toEqual([]);
  });

  it('refuses a header with unknown or repeated columns, or without an identifier column', async () => {
    await expect(read('email,colour\n')).rejects.toBeInstanceOf(ImportFormatError);
    await expect(read('email,email\n')).rejects.toBeInstanceOf(ImportFormatError);
    await expect(read('first_name\nAda\n')).rejects.toBeInstanceOf(ImportFormatError);
  });
});
