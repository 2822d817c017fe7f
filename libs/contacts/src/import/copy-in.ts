import type { EntityManager } from 'typeorm';

/** The parts of pg's Connection a COPY FROM STDIN drives. */
interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

interface SubmittableClient {
  query(submittable: object): unknown;
}

/**
 * `COPY … FROM STDIN` of one in-memory buffer, on the connection of the caller's transaction.
 * TypeORM exposes no COPY, so this speaks it through pg's public "submittable" interface (the one
 * pg-copy-streams uses): pg sends the statement, Postgres asks for the data, we send it in one
 * CopyData run and CopyDone. Resolves with the number of rows copied; rejects with Postgres' error.
 */
export function copyIn(manager: EntityManager, statement: string, data: Buffer): Promise<number> {
  const client = (manager.queryRunner as unknown as { databaseConnection?: SubmittableClient } | undefined)
    ?.databaseConnection;
  if (!client)
    return Promise.reject(new Error('COPY needs a transaction (a query runner with its own connection)'));
  return new Promise<number>((resolve, reject) => {
    let rows = 0;
    const CHUNK = 256 * 1024;
    const copy = {
      /** Set by pg when it times the statement (query_timeout); called once settled, it clears that timer (as pg-copy-streams does). */
      callback: undefined as (() => void) | undefined,
      submit(connection: CopyConnection) {
        connection.query(statement);
      },
      handleCopyInResponse(connection: CopyConnection) {
        for (let offset = 0; offset < data.length; offset += CHUNK) {
          connection.sendCopyFromChunk(data.subarray(offset, offset + CHUNK));
        }
        connection.endCopyFrom();
      },
      handleCommandComplete(message: { text?: string }) {
        rows = Number(/COPY (\d+)/.exec(message.text ?? '')?.[1] ?? 0);
      },
      // pg forgets the active query on an error, before Postgres' ReadyForQuery: settle here, as
      // pg's own Query does (statements queued after this one still wait for ReadyForQuery).
      handleError(error: unknown) {
        copy.callback?.();
        reject(error instanceof Error ? error : new Error('COPY failed'));
      },
      handleReadyForQuery() {
        copy.callback?.();
        resolve(rows);
      },
      handleRowDescription() {},
      handleDataRow() {},
      handleEmptyQuery() {},
      handlePortalSuspended() {},
      handleCopyData() {},
    };
    client.query(copy);
  });
}

/** A value in COPY's text format: \N for null; backslash, tab, newline and carriage return escaped. */
export function copyText(value: string | null): string {
  if (value === null) return '\\N';
  return value.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

/** A text[] literal: every element quoted, with quotes and backslashes escaped. */
export function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

/** Ids made in a loop share their millisecond: format each millisecond once (toISOString is ~5 µs). */
let lastIsoMs = -1;
let lastIso = '';
export function isoAt(ms: number): string {
  if (ms !== lastIsoMs) {
    lastIsoMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
