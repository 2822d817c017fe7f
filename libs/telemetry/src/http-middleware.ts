import type { NextFunction, Request, Response } from 'express';
import { RequestContext } from './request-context';
import type { HeraldMetrics } from './metrics';

/** Paths that only the ops port serves. */
const OPS_ONLY = [/^\/metrics\/?$/, /^\/internal(\/|$)/];
/** Paths both ports serve. */
const BOTH = [/^\/health\/?$/, /^\/ready\/?$/];

/**
 * One Express app can listen on a public port and an ops port; this keeps /metrics and
 * /internal/* off the public port and everything but probes off the ops port. `ports` is read
 * per request, so the caller may fill in the ports the servers actually bound (PORT=0).
 */
export function portGate(ports: Readonly<{ publicPort?: number; opsPort: number }>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const path = req.path;
    const opsOnly = OPS_ONLY.some((r) => r.test(path));
    const onOps = ports.publicPort === undefined || req.socket.localPort === ports.opsPort;
    const allowed = BOTH.some((r) => r.test(path)) || (onOps ? opsOnly : !opsOnly);
    if (allowed) return next();
    res
      .status(404)
      .type('application/problem+json')
      .json({
        type: 'https://herald.dev/problems/not-found',
        title: 'Not Found',
        status: 404,
        detail: `No route ${req.method} ${path}`,
        request_id: RequestContext.current().request_id,
      });
  };
}

/** Accepts a well-formed X-Request-Id or makes one, echoes it, and opens the trace context. */
export function requestContext() {
  return (req: Request, res: Response, next: NextFunction): void => {
    const requestId = RequestContext.requestIdFrom(req.headers['x-request-id']);
    (req as Request & { id?: string }).id = requestId;
    res.setHeader('X-Request-Id', requestId);
    RequestContext.run({ request_id: requestId }, next);
  };
}

/** Request rate, latency and in-flight count. The route label is the matched pattern, never the raw URL. */
export function httpMetrics(metrics: HeraldMetrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    metrics.httpInFlight.inc();
    res.once('close', () => {
      metrics.httpInFlight.dec();
      const routePath = (req.route as { path?: unknown } | undefined)?.path;
      const route = typeof routePath === 'string' ? `${req.baseUrl}${routePath}` : 'unmatched';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpRequests.inc({
        method: req.method,
        route,
        status: `${Math.floor(res.statusCode / 100)}xx`,
      });
      metrics.httpDuration.observe({ method: req.method, route }, seconds);
    });
    next();
  };
}
