import { Client } from 'pg';

/**
 * Room between Postgres' statement_timeout and the client-side bound, so a slow but healthy
 * statement is still ended by the server (Postgres' 57014, the connection kept) and only a silent
 * network trips the client's. What lies between the two: one round trip, the backend noticing its
 * timeout (interrupts are checked between rows, not instantly) and this process's event-loop lag
 * under load, which reaches hundreds of milliseconds on a busy worker. A second covers those; more
 * would only hold a hung statement's callers longer.
 */
export const QUERY_TIMEOUT_MARGIN_MS = 1000;

/** The client-side bound of every pooled query: none where the server has none (migrations). */
export function queryTimeoutMs(statementTimeoutMs: number): number | undefined {
  return statementTimeoutMs > 0 ? statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS : undefined;
}

/** pg's message when `query_timeout` passed without an answer. */
const READ_TIMEOUT = 'Query read timeout';

type Callback = (error: unknown, result: unknown) => void;

interface Submittable {
  submit: unknown;
  handleError: (error: unknown, connection: unknown) => void;
  handleReadyForQuery?: (...args: unknown[]) => unknown;
}

function isSubmittable(value: unknown): value is Submittable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<Submittable>).submit === 'function' &&
    typeof (value as Partial<Submittable>).handleError === 'function'
  );
}

/**
 * The pool's pg Client (`extra.Client`): a client whose query passed `query_timeout` ends its
 * connection. pg answers the caller "Query read timeout" but keeps the client connected with the
 * statement still in flight, and neither TypeORM nor pg-pool notices: the client would go back to
 * the pool and the next caller's statement would queue behind the hung one. `end()` marks the
 * client ending at once (pg-pool drops an ending client on release instead of reusing it) and,
 * with a statement in flight, destroys the socket. Hand-written: pg has no option for this outside
 * its pipeline mode, which TypeORM's transactions and COPY cannot use.
 */
export class QueryBoundClient extends Client {
  // pg's query() has a dozen overloads (promise, callback, submittable); this passes each through
  // unchanged and only watches its outcome, so it takes and returns pg's own types untouched.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const first: unknown = args[0];
    if (isSubmittable(first)) {
      // A submittable (COPY, cursors) has no callback: pg tells it of the timeout through this.
      // pg clears its timer only if the submittable calls the `callback` pg gives it (pg-copy-streams
      // does; a hand-written one may not), so the timer can still fire after the statement is
      // done, on a client back in the pool or serving someone else: only a timeout of a statement
      // still waiting for its ReadyForQuery ends the connection.
      let settled = false;
      const { handleError, handleReadyForQuery } = first;
      first.handleError = (error: unknown, connection: unknown) => {
        if (!settled) this.endIfTimedOut(error);
        handleError.call(first, error, connection);
      };
      if (typeof handleReadyForQuery === 'function') {
        first.handleReadyForQuery = (...rest: unknown[]) => {
          settled = true;
          return handleReadyForQuery.apply(first, rest);
        };
      }
    }
    const last = args.length - 1;
    if (last > 0 && typeof args[last] === 'function') {
      const callback = args[last] as Callback;
      args[last] = (error: unknown, result: unknown) => {
        this.endIfTimedOut(error);
        callback(error, result);
      };
    }
    const result = (super.query as (...a: unknown[]) => unknown).apply(this, args);
    // Watched before the caller's own `await` is attached, so the client is ending by the time
    // the caller (TypeORM) releases it to the pool.
    if (result instanceof Promise) result.then(undefined, (error: unknown) => this.endIfTimedOut(error));
    return result;
  }

  private endIfTimedOut(error: unknown): void {
    if (error instanceof Error && error.message === READ_TIMEOUT) void this.end();
  }
}
