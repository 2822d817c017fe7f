/**
 * How the pipeline tells an outage from a bug. Transient: Postgres or Redis refused or dropped
 * the call (restart, failover, a connection cut, a timeout, too many connections, a serialization
 * failure); asking again later can succeed, so the stage retries with backoff and, past its
 * budget, hands the batch back to the queue (the job retries with backoff; no delivery changes
 * state). Anything else is not retried here: a known condition becomes a delivery-level
 * permanent outcome with an actionable reason where the pipeline knows one (an account that
 * does not exist, a template that does not render); an unexpected error fails the job, whose
 * reason the failed-jobs list shows, and leaves the delivery as it was — never `failed` on a guess.
 */

/** SQLSTATE classes and codes worth retrying. */
const TRANSIENT_SQLSTATE_CLASSES = ['08', '53', '57P', '58'];
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03', '57014']);
/** Socket-level codes set by Node. */
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTCONN',
]);
/** What pg, pg-pool, TypeORM and ioredis say when a connection went away or could not be had. */
const TRANSIENT_MESSAGES = [
  /connection terminated/i,
  /connection error/i,
  /not queryable/i,
  /timeout exceeded when trying to connect/i,
  /query read timeout/i,
  /stream isn't writeable/i,
  /connection is closed/i,
  /command timed out/i,
  /reached the max retries per request/i,
  /redis connection is/i,
];
const TRANSIENT_NAMES = new Set(['QueryRunnerAlreadyReleasedError', 'MaxRetriesPerRequestError']);

interface Inspectable {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  driverError?: unknown;
  errors?: unknown;
}

/** Whether `error` (or what it wraps) is Postgres or Redis being unreachable for now. */
export function isTransientInfraError(error: unknown): boolean {
  const seen = new Set<unknown>();
  const stack: unknown[] = [error];
  while (stack.length > 0) {
    const e = stack.pop();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    const { name, code, message, cause, driverError, errors } = e as Inspectable;
    if (typeof code === 'string') {
      if (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_NODE_CODES.has(code)) return true;
      if (/^[0-9A-Z]{5}$/.test(code) && TRANSIENT_SQLSTATE_CLASSES.some((c) => code.startsWith(c)))
        return true;
    }
    if (typeof name === 'string' && TRANSIENT_NAMES.has(name)) return true;
    if (typeof message === 'string' && TRANSIENT_MESSAGES.some((m) => m.test(message))) return true;
    stack.push(cause, driverError);
    // AggregateError: a connect that tried several addresses.
    if (Array.isArray(errors)) stack.push(...(errors as unknown[]));
  }
  return false;
}

/** A stage gave up on a transient error within its budget: the batch goes back to the queue. */
export class TransientStageError extends Error {
  constructor(
    readonly stage: string,
    override readonly cause: unknown,
  ) {
    super(`${stage}: ${errorText(cause)} (transient: retried, then handed back to the queue)`);
    this.name = 'TransientStageError';
  }
}

/** An error's message, for logs and ledger reasons (never a stack). */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code)
      ? `${error.message} (${code})`
      : error.message;
  }
  return String(error);
}
