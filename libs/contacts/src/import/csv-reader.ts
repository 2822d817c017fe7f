import { parse, type Parser } from 'csv-parse';
import type { Readable } from 'node:stream';
import { ImportFormatError } from '../errors';
import { findJsonTextProblem, jsonTextMessage } from '../json-text';
import type { RawImportRow } from './import-row';

/** Columns a CSV import may have (any order, any subset); `attributes.<name>` columns add string attributes. */
export const CSV_COLUMNS = [
  'email',
  'external_ref',
  'profile_url',
  'first_name',
  'last_name',
  'birth_date',
  'time_zone',
  'status',
  'tags',
  'attributes',
] as const;
const ATTRIBUTE_COLUMN = /^attributes\.(.{1,64})$/;

/**
 * Reads CSV with a header row (BOM, CRLF and quoted fields with commas, quotes and newlines are
 * fine) into JSON-shaped objects: an empty cell is left out, `tags` splits on ";", `attributes`
 * is a JSON object. A record the parser cannot read, with the wrong number of cells, with a NUL
 * (which Postgres cannot store), or with an `attributes` cell that nests deeper than the row may
 * (`maxDepth` counts the row object, as for a JSON import row) or escapes a string Postgres cannot
 * store, is a row error; a bad header is an ImportFormatError (nothing is imported).
 */
export async function* readCsv(body: Readable, options: { maxDepth: number }): AsyncGenerator<RawImportRow> {
  const parser: Parser = parse({
    bom: true,
    relax_column_count: true,
    // A stray quote inside a cell is kept as text (as spreadsheets do) instead of derailing the rows after it.
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: 1_048_576,
  });
  // Skips are signalled while parsing, ahead of the records we consume: remember where each fell.
  const skipped: { after: number; message: string }[] = [];
  parser.on('skip', (error: Error) =>
    skipped.push({ after: parser.info.records, message: csvMessage(error) }),
  );
  body.on('error', (error) => parser.destroy(error));
  body.pipe(parser);

  let header: Header | undefined;
  let consumed = 0;
  let row = 0;
  const drain = function* (upTo: number): Generator<RawImportRow> {
    while (skipped.length > 0 && skipped[0]!.after <= upTo) {
      const skip = skipped.shift()!;
      if (skip.after === 0) throw new ImportFormatError(`CSV header row: ${skip.message}`);
      row += 1;
      yield { row, error: { field: '', message: skip.message } };
    }
  };
  for await (const record of parser as AsyncIterable<string[]>) {
    consumed += 1;
    yield* drain(consumed - 1);
    if (!header) {
      header = readHeader(record, options.maxDepth);
      continue;
    }
    row += 1;
    if (record.length !== header.names.length) {
      yield {
        row,
        error: {
          field: '',
          message: `has ${record.length} cells where the header has ${header.names.length}`,
        },
      };
      continue;
    }
    const mapped = header.map(record);
    yield 'error' in mapped ? { row, error: mapped.error } : { row, value: mapped.value };
  }
  if (header) yield* drain(Number.MAX_SAFE_INTEGER);
  else if (skipped.length > 0) throw new ImportFormatError(`CSV header row: ${skipped[0]!.message}`);
}

interface Header {
  names: string[];
  /** A record as a JSON-shaped row, or the one cell that keeps it from being one. */
  map: (
    cells: string[],
  ) => { value: Record<string, unknown> } | { error: { field: string; message: string } };
}

function readHeader(cells: string[], maxDepth: number): Header {
  const names = cells.map((c) => c.trim().toLowerCase());
  const errors: { field: string; message: string }[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) errors.push({ field: name, message: 'appears twice in the header' });
    seen.add(name);
    if (!(CSV_COLUMNS as readonly string[]).includes(name) && !ATTRIBUTE_COLUMN.test(name)) {
      errors.push({
        field: name,
        message: `is not a known column (known: ${CSV_COLUMNS.join(', ')}, attributes.<name>)`,
      });
    }
  }
  if (errors.length > 0)
    throw new ImportFormatError('The CSV header names unknown or repeated columns.', errors);
  if (!names.includes('email') && !names.includes('external_ref')) {
    throw new ImportFormatError('The CSV header needs an email or an external_ref column.', [
      { field: 'email', message: 'an email or external_ref column is required' },
    ]);
  }
  // Per column, once: the attribute an `attributes.<name>` column sets (its name as written).
  const attributeOf = cells.map((c) => ATTRIBUTE_COLUMN.exec(c.trim())?.[1]);
  const map: Header['map'] = (values) => {
    const out: Record<string, unknown> = {};
    let attributes: Record<string, unknown> | undefined;
    for (let i = 0; i < names.length; i++) {
      const value = values[i]!;
      if (value.trim() === '') continue;
      const name = names[i]!;
      const attribute = attributeOf[i];
      if (value.includes('\u0000')) {
        const field = attribute !== undefined ? `attributes.${attribute}` : name;
        return { error: { field, message: jsonTextMessage('nul', maxDepth) } };
      }
      if (attribute !== undefined) {
        attributes ??= {};
        attributes[attribute] = value;
      } else if (name === 'tags') {
        out.tags = value
          .split(';')
          .map((t) => t.trim())
          .filter(Boolean);
      } else if (name === 'attributes') {
        // The cell is the row's `attributes` field: one level below the row.
        const found = findJsonTextProblem(value, maxDepth - 1);
        if (found) {
          const field = found.path === '' ? 'attributes' : `attributes.${found.path}`;
          return { error: { field, message: jsonTextMessage(found.kind, maxDepth) } };
        }
        out.attributes = parseAttributes(value);
      } else {
        out[name] = value;
      }
    }
    if (attributes) {
      const base = out.attributes;
      out.attributes =
        base && typeof base === 'object' && !Array.isArray(base)
          ? { ...base, ...attributes }
          : (base ?? attributes);
    }
    return { value: out };
  };
  return { names, map };
}

/** Invalid JSON stays a string, so validation reports it against the attributes field. */
function parseAttributes(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

const CSV_MESSAGES: Record<string, string> = {
  CSV_INVALID_CLOSING_QUOTE: 'has a badly quoted cell (quote a cell whole, and double any quote inside it)',
  CSV_INVALID_OPENING_QUOTE: 'has a badly quoted cell (quote a cell whole, and double any quote inside it)',
  CSV_QUOTE_NOT_CLOSED: 'has a badly quoted cell (quote a cell whole, and double any quote inside it)',
  CSV_MAX_RECORD_SIZE: 'is longer than 1 MiB',
};

function csvMessage(error: Error): string {
  return CSV_MESSAGES[(error as { code?: string }).code ?? ''] ?? 'could not be read as CSV';
}
