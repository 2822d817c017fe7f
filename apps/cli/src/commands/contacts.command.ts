import type { Command } from 'commander';
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import type { CliContext } from '../cli-context';
import { CliError, EXIT, type ExitCode } from '../exit-codes';
import { fields, table } from '../output';
import type { Run } from '../program';
import { formatBytes, formatPercent, progressBar, ProgressLine } from '../progress';

const MEDIA_TYPES = { csv: 'text/csv', json: 'application/json' } as const;
type Format = keyof typeof MEDIA_TYPES;

/** What POST /v1/contacts/import answers. */
interface ImportReport {
  created: number;
  updated: number;
  failed: number;
  errors: { row: number; field: string; message: string }[];
  errors_truncated?: boolean;
}

/** `herald contacts import <file>`: streamed to the API with a tenant key. */
export function registerContactCommands(program: Command, run: Run): void {
  const contacts = program
    .command('contacts')
    .description("a tenant's contacts (through the API: HERALD_API_KEY)");
  contacts
    .command('import')
    .description(
      'upsert contacts from a CSV (with a header row) or JSON array file, streamed (exit 5 when rows were rejected)',
    )
    .argument('<file>', 'a .csv or .json file')
    .option('--format <format>', 'csv or json, when the file name does not say')
    .action((file: string, options: { format?: string }, command: Command) =>
      run(command, (ctx) => importContacts(ctx, file, options.format)),
    );
}

async function importContacts(ctx: CliContext, file: string, given: string | undefined): Promise<ExitCode> {
  const api = ctx.api();
  const format = formatOf(file, given);
  const { stream, size } = await openFile(file);
  const progress = new ProgressLine(ctx.out.stderr, { tty: ctx.out.interactive });
  const line = (sent: number) => {
    const fraction = size > 0 ? sent / size : 1;
    return `import ${progressBar(fraction)} ${formatPercent(fraction)}  ${formatBytes(sent)} / ${formatBytes(size)}`;
  };
  let readError: Error | undefined;
  stream.once('error', (error) => (readError = error));
  let report: ImportReport;
  try {
    report = await api.upload<ImportReport>('v1/contacts/import', {
      data: stream,
      type: MEDIA_TYPES[format],
      length: size,
      onProgress: (sent) => progress.update(line(sent)),
    });
  } catch (error) {
    progress.interrupt();
    stream.destroy();
    if (readError) throw new CliError(EXIT.usage, `cannot read ${file}: ${readError.message}`);
    throw error;
  }
  progress.finish(line(size));
  ctx.out.result(report, () => renderReport(report));
  return report.failed > 0 ? EXIT.partial : EXIT.ok;
}

function formatOf(file: string, given: string | undefined): Format {
  const format = (given ?? extname(file).slice(1)).toLowerCase();
  if (format === 'csv' || format === 'json') return format;
  throw new CliError(
    EXIT.usage,
    given === undefined
      ? `cannot tell the format of ${file}: name it .csv or .json, or pass --format csv|json`
      : `--format must be csv or json (got ${JSON.stringify(given)})`,
  );
}

/** Opened up front, so a missing or unreadable file is reported before any request. */
async function openFile(file: string) {
  try {
    const handle = await open(file, 'r');
    const stats = await handle.stat();
    if (!stats.isFile()) {
      await handle.close();
      throw new CliError(EXIT.usage, `cannot read ${file}: not a regular file`);
    }
    return { stream: handle.createReadStream(), size: stats.size };
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new CliError(EXIT.usage, `cannot read ${file}: ${reason}`);
  }
}

function renderReport(report: ImportReport): string {
  const summary = fields([
    ['created', report.created],
    ['updated', report.updated],
    ['failed', report.failed],
  ]);
  if (report.errors.length === 0) return summary;
  const errors = table(
    ['row', 'field', 'message'],
    report.errors.map((e) => [e.row, e.field, e.message]),
  );
  const more = report.errors_truncated ? `\n(only the first ${report.errors.length} errors are listed)` : '';
  return `${summary}\n\n${errors}${more}`;
}
