import fc from 'fast-check';
import { Readable } from 'node:stream';
import { ImportFormatError } from '../errors';
import type { RawImportRow } from './import-row';
import { readJsonArray } from './json-array-reader';

async function read(text: string, chunkSize = text.length || 1, maxDepth = 32): Promise<RawImportRow[]> {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  const rows: RawImportRow[] = [];
  for await (const row of readJsonArray(Readable.from(chunks, { objectMode: true }), { maxDepth }))
    rows.push(row);
  return rows;
}

describe('readJsonArray', () => {
  it('yields each element with its 1-based row, whatever the chunking (even inside a multi-byte character)', async () => {
    const body =
      ' \n[{"email":"a@x.io","n":"[,]{\\"}"}, {"first_name":"Zoë 👋"} ,"text", 12, null, [1,[2]]]\r\n';
    const expected = [
      { row: 1, value: { email: 'a@x.io', n: '[,]{"}' } },
      { row: 2, value: { first_name: 'Zoë 👋' } },
      { row: 3, value: 'text' },
      { row: 4, value: 12 },
      { row: 5, value: null },
      { row: 6, value: [1, [2]] },
    ];
    for (const size of [1, 2, 3, 7, 1000]) expect(await read(body, size)).toEqual(expected);
  });

  it('reads an empty array and a BOM', async () => {
    expect(await read('[]')).toEqual([]);
    expect(await read('\ufeff[ ]')).toEqual([]);
    expect(await read('\ufeff[{"a":1}]')).toEqual([{ row: 1, value: { a: 1 } }]);
  });

  it('reports an element that is not JSON as a row error and goes on', async () => {
    const rows = await read('[{"a":1},{"a":tru},{"b":2}]');
    expect(rows).toEqual([
      { row: 1, value: { a: 1 } },
      { row: 2, error: { field: '', message: 'is not valid JSON' } },
      { row: 3, value: { b: 2 } },
    ]);
  });

  it('reports an element nested deeper than maxDepth as a row error naming the too-deep field, never parsing it', async () => {
    const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    const body = `[{"email":"a@x.io","attributes":${deep(32)}}, [${'['.repeat(10_000)}${']'.repeat(10_000)}],
      {"email":"b@x.io","attributes":{"x":[${deep(40)}]}}, {"email":"c@x.io","attributes":${deep(30)}}]`;
    for (const size of [1, 5, 4096, body.length]) {
      const rows = await read(body, size);
      expect(rows.map((r) => r.row)).toEqual([1, 2, 3, 4]);
      const message = 'is nested deeper than 32 levels of arrays and objects';
      expect(rows[0]).toEqual({ row: 1, error: { field: `attributes${'.a'.repeat(31)}`, message } });
      expect(rows[1]).toEqual({ row: 2, error: { field: Array(32).fill('0').join('.'), message } });
      expect(rows[2]).toEqual({ row: 3, error: { field: `attributes.x.0${'.a'.repeat(29)}`, message } });
      expect(rows[3]!.value).toEqual(JSON.parse(`{"email":"c@x.io","attributes":${deep(30)}}`));
    }
    expect((await read(`[${deep(5)}]`, 3, 4))[0]!.error?.field).toBe('a.a.a.a');
  });

  it('reports an element that escapes a NUL or a lone surrogate as a row error naming the string', async () => {
    const rows = await read(
      '[{"email":"a@x.io","attributes":{"k":["ok","\\u0000"]}},{"first_name":"\\ud800"},{"a":"\\u00e9"}]',
    );
    expect(rows).toEqual([
      { row: 1, error: { field: 'attributes.k.1', message: 'must not contain the NUL character (\\u0000)' } },
      {
        row: 2,
        error: { field: 'first_name', message: expect.stringMatching(/unpaired UTF-16 surrogate/) as string },
      },
      { row: 3, value: { a: 'é' } },
    ]);
  });

  it.each([
    ['', 'empty'],
    ['{"a":1}', 'not an array'],
    ['[{"a":1}', 'cut short'],
    ['[{"a":1}] x', 'trailing data'],
    ['[{"a":1} {"b":2}]', 'missing comma'],
    ['[,]', 'missing value'],
    ['[{"a":"unterminated]', 'open string'],
  ])('refuses a body that is not a JSON array (%s: %s)', async (body) => {
    await expect(read(body)).rejects.toBeInstanceOf(ImportFormatError);
  });

  it('round-trips any array of JSON values', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.jsonValue(), { maxLength: 20 }),
        fc.integer({ min: 1, max: 64 }),
        async (values, size) => {
          const rows = await read(JSON.stringify(values), size, 1000);
          expect(rows.map((r) => r.value)).toEqual(
            values.map((v) => JSON.parse(JSON.stringify(v)) as unknown),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
