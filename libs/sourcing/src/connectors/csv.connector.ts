import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { CANDIDATE_FIELDS, type CandidateField } from '../accounts/source-account';
import type { Batch, ConnectorContext, FoundCandidate, SourceConnector } from './connector';
import { text } from './json-path';

const MAX_CSV_BYTES = 5_000_000;
/** Rows turned into candidates per step (a list spends no quota; steps only bound the work per transaction). */
const ROWS_PER_STEP = 200;

const criteria = z.strictObject({
  csv: z
    .string('must be the CSV text, its first line the column headers')
    .min(1, 'must not be empty')
    .max(MAX_CSV_BYTES, `must be at most ${MAX_CSV_BYTES} characters`),
});

/**
 * An uploaded list (the job's `criteria.csv`, header row first) as a source: each row a
 * candidate, its columns named by the account's `columns` (default: the field names). No
 * request leaves Herald, so a list spends no quota. The cursor is the next row's index.
 */
export class CsvConnector implements SourceConnector<'csv'> {
  readonly kind = 'csv' as const;
  readonly criteria = criteria as z.ZodType<Record<string, unknown>>;

  requestsPerStep(): number {
    return 0;
  }

  plannedRequests(): number {
    return 0;
  }

  step(ctx: ConnectorContext<'csv'>): Promise<Batch> {
    const rows = parseRows(ctx.criteria.csv as string, ctx.account.config.delimiter);
    const from = ctx.cursor === null ? 0 : Number(ctx.cursor);
    const slice = rows.slice(from, from + ROWS_PER_STEP);
    const columns = ctx.account.config.columns;
    const candidates = slice.map((row, i) => mapRow(row, from + i, columns));
    const next = from + ROWS_PER_STEP < rows.length ? String(from + ROWS_PER_STEP) : null;
    return Promise.resolve({ candidates, next });
  }
}

/** Checks the list parses (a 400 names `criteria.csv` with the line), for the API. */
export function csvProblem(csv: string, delimiter: string): string | undefined {
  try {
    const rows = parseRows(csv, delimiter);
    if (rows.length === 0) return 'has no rows under its header line';
    return undefined;
  } catch (error) {
    return `is not valid CSV: ${(error as Error).message.slice(0, 200)}`;
  }
}

function parseRows(csv: string, delimiter: string): Record<string, string>[] {
  return parse(csv, {
    columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
    delimiter,
    skip_empty_lines: true,
    trim: true,
    bom: true,
  });
}

function mapRow(
  row: Record<string, string>,
  index: number,
  columns: Partial<Record<CandidateField, string>>,
): FoundCandidate {
  const field = (name: CandidateField) => text(row[(columns[name] ?? name).toLowerCase()]);
  const values = Object.fromEntries(CANDIDATE_FIELDS.map((f) => [f, field(f)])) as Record<
    CandidateField,
    string | undefined
  >;
  const identity = values.external_id ?? values.email ?? values.profile_url ?? values.website;
  const sourceKey = identity
    ? `key:${identity.toLowerCase()}`
    : `row:${index}:${createHash('sha256').update(JSON.stringify(row)).digest('hex').slice(0, 16)}`;
  return {
    sourceKey: sourceKey.slice(0, 500),
    name: values.name,
    website: values.website,
    email: values.email,
    phone: values.phone,
    address: values.address ? { text: values.address } : undefined,
    category: values.category,
    externalId: values.external_id,
    profileUrl: values.profile_url,
    facts: { row },
    raw: row,
  };
}
