/** One row as read from the body, before validation: a value, or why it could not even be read. */
export type RawImportRow =
  | { row: number; value: unknown; error?: undefined }
  | { row: number; value?: undefined; error: { field: string; message: string } };

export interface ImportRowError {
  row: number;
  field: string;
  message: string;
}
