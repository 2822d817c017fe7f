import type { ImportResult } from '@herald/api-client';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { importCsv, type ImportProgress } from '../api/csv-import';
import { ProblemView } from '../ui/states';

/** CSV import: a file (or pasted text), its progress chunk by chunk, and the rows that failed and why. */
export function ImportPanel() {
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<ImportProgress | null>(null);
  const queries = useQueryClient();
  const run = useMutation({
    mutationFn: async (f: File) => importCsv(await f.text(), setProgress),
    onMutate: () => setProgress(null),
    onSettled: () => void queries.invalidateQueries({ queryKey: ['contacts'] }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (file) run.mutate(file);
  };
  return (
    <section aria-labelledby="import-heading" className="card">
      <h2 id="import-heading">Import contacts from CSV</h2>
      <p className="muted small">
        A header row naming columns among email, external_ref, first_name, last_name, birth_date, time_zone,
        status, tags (<code>;</code>-separated) and <code>attributes.&lt;name&gt;</code>. Existing contacts
        (same email or external_ref) are updated.
      </p>
      <form onSubmit={submit} className="stack">
        <label htmlFor="csv-file">CSV file</label>
        <input
          id="csv-file"
          type="file"
          accept=".csv,text/csv"
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
        />
        <button type="submit" disabled={!file || run.isPending}>
          {run.isPending ? 'Importing…' : 'Import'}
        </button>
      </form>
      {(run.isPending || progress) && (
        <div className="progress-line">
          <progress aria-label="Import progress" max={progress?.total ?? 1} value={progress?.done ?? 0} />
          <span role="status">
            {progress ? `${progress.done} / ${progress.total} rows` : 'Reading the file…'}
          </span>
        </div>
      )}
      {run.isError && <ProblemView error={run.error} title="The import failed" />}
      {run.data && <ImportSummary result={run.data} />}
    </section>
  );
}

function ImportSummary({ result }: { result: ImportResult }) {
  return (
    <div data-testid="import-result">
      <p role="status">
        Created {result.created}, updated {result.updated}, failed {result.failed}.
      </p>
      {result.errors.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>Rows that were not imported</caption>
            <thead>
              <tr>
                <th scope="col">Row</th>
                <th scope="col">Field</th>
                <th scope="col">Problem</th>
              </tr>
            </thead>
            <tbody>
              {result.errors.map((e) => (
                <tr key={`${e.row}:${e.field}`}>
                  <td>{e.row}</td>
                  <td>
                    <code>{e.field}</code>
                  </td>
                  <td>{e.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {result.errors_truncated && <p className="muted small">More rows failed than are listed.</p>}
        </div>
      )}
    </div>
  );
}
