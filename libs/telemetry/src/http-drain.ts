import type { IncomingMessage, Server } from 'node:http';

/** How often a draining server closes the connections that have just gone idle. */
const IDLE_SWEEP_MS = 250;
/** A request whose body gained no byte over this long while draining is cut: it would never finish. */
const STALL_CHECK_MS = 1000;
/** Whatever is still open this long before the grace ends is cut, so the process exits 0 within it. */
const FINAL_MARGIN_MS = 1000;

/** The requests a server is working on, so a shutdown can tell a stalled upload from a busy handler. */
export class InFlightRequests {
  private readonly requests = new Set<IncomingMessage>();

  watch(server: Server): void {
    server.on('request', (req: IncomingMessage) => {
      this.requests.add(req);
      req.once('close', () => this.requests.delete(req));
    });
  }

  /** Requests whose body has not fully arrived, with the bytes their connection has read so far. */
  uploading(): { req: IncomingMessage; bytesRead: number }[] {
    return [...this.requests]
      .filter((req) => !req.complete && !req.socket.destroyed)
      .map((req) => ({ req, bytesRead: req.socket.bytesRead }));
  }
}

/**
 * Stops the servers for a shutdown that must end within `graceMs`: no new connections, idle
 * keep-alive connections closed now (and as others go idle), requests whose body stopped arriving
 * cut after a short check, and anything still open cut just before the grace ends. Without this,
 * one client that sent headers and then nothing keeps `server.close()`, and so the exit, waiting.
 * Resolves once every server has closed.
 */
export function drainServers(
  servers: readonly Server[],
  inFlight: InFlightRequests,
  graceMs: number,
): Promise<void> {
  const closed = servers.map(
    (server) =>
      new Promise<void>((resolve) => {
        if (!server.listening) resolve();
        else server.close(() => resolve());
      }),
  );
  for (const server of servers) server.closeIdleConnections();
  const sweep = setInterval(() => {
    for (const server of servers) server.closeIdleConnections();
  }, IDLE_SWEEP_MS);
  let previous = inFlight.uploading();
  const stalls = setInterval(() => {
    const now = new Map(inFlight.uploading().map((u) => [u.req, u.bytesRead]));
    for (const { req, bytesRead } of previous) {
      if (now.get(req) === bytesRead) req.socket.destroy();
    }
    previous = inFlight.uploading();
  }, STALL_CHECK_MS);
  const final = setTimeout(
    () => {
      for (const server of servers) server.closeAllConnections();
    },
    Math.max(0, graceMs - FINAL_MARGIN_MS),
  );
  for (const timer of [sweep, stalls, final]) timer.unref();
  return Promise.all(closed).then(() => {
    clearInterval(sweep);
    clearInterval(stalls);
    clearTimeout(final);
  });
}
