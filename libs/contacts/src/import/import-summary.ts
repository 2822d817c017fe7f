import type { ImportRowError } from './import-row';

/** What an import did: the response body of POST /v1/contacts/import. */
export interface ImportSummary {
  created: number;
  updated: number;
  failed: number;
  /** At most MAX_REPORTED_ERRORS entries; errors_truncated says when more rows failed. */
  errors: ImportRowError[];
  errorsTruncated: boolean;
}

export const MAX_REPORTED_ERRORS = 10_000;

export type Report = (row: number, field: string, message: string, countsRow?: boolean) => void;

/** Records a failed row (counted once) and its error, keeping at most MAX_REPORTED_ERRORS errors. */
export function reporter(summary: ImportSummary): Report {
  return (row, field, message, countsRow = true) => {
    if (countsRow) summary.failed += 1;
    if (summary.errors.length < MAX_REPORTED_ERRORS) summary.errors.push({ row, field, message });
    else summary.errorsTruncated = true;
  };
}
