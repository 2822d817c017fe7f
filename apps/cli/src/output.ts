import type { CliError } from './exit-codes';

/** Where the CLI writes: results to stdout, everything else (progress, notes, errors) to stderr. */
export interface TextSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface CliIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
}

export type Cell = string | number | boolean | null | undefined;

/**
 * One result per command: with `--json`, a single JSON document on stdout (errors included, as
 * `{"error": …}`); otherwise aligned text. Progress and notes never touch stdout, so
 * `herald … --json | jq` always parses.
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly io: CliIo,
  ) {}

  /** Whether stderr is a terminal (progress is then redrawn in place). */
  get interactive(): boolean {
    return this.io.stderr.isTTY === true;
  }

  get stderr(): TextSink {
    return this.io.stderr;
  }

  /** The command's result: `value` as JSON, or the human rendering. */
  result(value: unknown, human: () => string): void {
    const text = this.json ? JSON.stringify(value, null, 2) : human();
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A line for the operator, never part of the result. */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  /** On stderr (unless `shown` there already), and with `--json` as the result document too. */
  error(error: CliError, options: { shown?: boolean } = {}): void {
    if (!options.shown) {
      const lines = [
        `herald: ${error.message}`,
        ...error.fieldErrors.map((e) => `  ${e.field}: ${e.message}`),
      ];
      this.io.stderr.write(`${lines.join('\n')}\n`);
    }
    if (this.json) {
      const body = {
        error: { exit_code: error.exitCode, message: error.message, errors: error.fieldErrors },
      };
      this.io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    }
  }
}

/** Columns padded to their widest cell, two spaces apart; numbers right-aligned; empty cells as `-`. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((row) => headers.map((_, i) => show(row[i])));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number'));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...text.map(line)].join('\n');
}

/** `label  value` pairs with the labels aligned. */
export function fields(pairs: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${label.padEnd(width)}  ${show(value)}`.trimEnd()).join('\n');
}

function show(value: Cell): string {
  if (value === null || value === undefined || value === '') return '-';
  return String(value);
}
