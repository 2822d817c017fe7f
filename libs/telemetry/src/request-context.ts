import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What ties a log line to the request or job that caused it. Travels into job data. */
export interface TraceContext {
  request_id?: string;
  job_id?: string;
  queue?: string;
  tenant_id?: string;
  /** W3C `traceparent` of the span that enqueued the job: the worker's job span continues it. */
  traceparent?: string;
}

const storage = new AsyncLocalStorage<TraceContext>();

/** A client-supplied request id is accepted only when it is short and plain. */
const WELL_FORMED_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export const RequestContext = {
  run<T>(context: TraceContext, fn: () => T): T {
    return storage.run({ ...context }, fn);
  },
  current(): TraceContext {
    return storage.getStore() ?? {};
  },
  /** Adds fields (for example tenant_id once a key is authenticated) to the running context. */
  assign(fields: Partial<TraceContext>): void {
    const store = storage.getStore();
    if (store) Object.assign(store, fields);
  },
  /** The id a request carries: the client's, when well formed, or a fresh one. */
  requestIdFrom(header: string | string[] | undefined): string {
    const value = Array.isArray(header) ? header[0] : header;
    return value !== undefined && WELL_FORMED_REQUEST_ID.test(value) ? value : randomUUID();
  },
};
