import { contactsImport, unwrap, type ImportResult } from '@herald/api-client';
import { client } from './client';

/**
 * A CSV split into record-sized pieces: a newline inside double quotes belongs to its cell.
 * Hand-written (a dozen lines) to keep a CSV parser out of the browser bundle; the api parses
 * each chunk properly.
 */
export function csvRecords(text: string): string[] {
  const records: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === '\n' && !quoted) {
      records.push(text.slice(start, i).replace(/\r$/, ''));
      start = i + 1;
    }
  }
  if (start < text.length) records.push(text.slice(start).replace(/\r$/, ''));
  return records.filter((r) => r.trim() !== '');
}

export interface ImportProgress {
  done: number;
  total: number;
  result: ImportResult;
}

/**
 * Imports a CSV in chunks of `chunkRows` data rows (each with the header), so a large file shows
 * progress; row numbers in the errors are the file's data rows (1 = the first after the header).
 */
export async function importCsv(
  text: string,
  onProgress: (p: ImportProgress) => void,
  chunkRows = 500,
): Promise<ImportResult> {
  const [header, ...rows] = csvRecords(text);
  if (header === undefined || rows.length === 0) throw new Error('The file has no rows below its header.');
  const total: ImportResult = { created: 0, updated: 0, failed: 0, errors: [], errors_truncated: false };
  for (let offset = 0; offset < rows.length; offset += chunkRows) {
    const chunk = rows.slice(offset, offset + chunkRows);
    const body = `${header}\r\n${chunk.join('\r\n')}\r\n`;
    const result = await unwrap(
      contactsImport({
        client,
        // The route also takes text/csv; the generated signature only knows the JSON array.
        body: body as unknown as [],
        bodySerializer: (b: unknown) => b as string,
        headers: { 'Content-Type': 'text/csv', 'Idempotency-Key': crypto.randomUUID() },
      }),
    );
    total.created += result.created;
    total.updated += result.updated;
    total.failed += result.failed;
    total.errors.push(...result.errors.map((e) => ({ ...e, row: e.row + offset })));
    total.errors_truncated ||= result.errors_truncated;
    onProgress({ done: Math.min(offset + chunkRows, rows.length), total: rows.length, result: total });
  }
  return total;
}
