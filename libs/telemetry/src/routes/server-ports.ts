import type { Request } from 'express';

/**
 * The ports this process listens on, filled in by `serve()` once bound (port 0 means "any").
 * A process with no separate ops listener (a test app) serves everything as public.
 */
export class ServerPorts {
  publicPort: number | undefined;
  opsPort: number | undefined;

  /** Which listener a request arrived on. */
  listenerOf(req: Request): 'public' | 'ops' {
    if (this.opsPort === undefined) return 'public';
    if (this.publicPort === undefined) return 'ops';
    return req.socket.localPort === this.opsPort ? 'ops' : 'public';
  }
}
