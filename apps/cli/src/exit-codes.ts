/**
 * What `herald` exits with (docs/cli.md). Scripts switch on these, so a value never changes
 * meaning; add new ones at the end.
 */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** The operation ran and did not succeed: a run failed or was cancelled, a health check is down, migrations are pending (`migrate status`), the API refused the request (409, 422, 429, 5xx). */
  failed: 1,
  /** Bad arguments or configuration: an unknown option, a missing or invalid variable, a file that is missing, unreadable or of an unknown type, a key or input the API does not accept (400, 401, 403, 413, 415). */
  usage: 2,
  /** The tenant, key, run, campaign… does not exist (the API answered 404). */
  notFound: 3,
  /** Postgres, Redis or the API could not be reached in time (or the API answered 503). */
  unreachable: 4,
  /** `contacts import`: some rows were rejected (the others were imported). */
  partial: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A field the API (or the CLI's own validation) refused. */
export interface FieldError {
  field: string;
  message: string;
}

/** An error the CLI explains in one line (plus field errors) and turns into an exit code. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly fieldErrors: readonly FieldError[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The exit code for an API answer that is not a success. */
export function exitCodeForStatus(status: number): ExitCode {
  // The caller's input or key: fixing the command line (or the file) is the way forward.
  if ([400, 401, 403, 413, 415].includes(status)) return EXIT.usage;
  if (status === 404) return EXIT.notFound;
  if (status === 503) return EXIT.unreachable;
  return EXIT.failed;
}
