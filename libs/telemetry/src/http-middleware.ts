import type { NextFunction, Request, Response } from 'express';
import { RequestContext } from './request-context';
import type { HeraldMetrics } from './metrics';
import type { ServerPorts } from './routes';

/**
 * For what is mounted on Express outside Nest's routes (the OpenAPI docs, Bull Board): served on
 * the public listener only. The mount declares it; the ops listener answers 404 as for any path
 * it does not serve. Nest routes are decided by ListenerGuard from their declared access.
 */
export function publicListenerOnly(ports: ServerPorts) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (ports.listenerOf(req) === 'public') return next();
    res
      .status(404)
      .type('application/problem+json')
      .json({
        type: 'https://herald.dev/problems/not-found',
        title: 'Not Found',
        status: 404,
        detail: `No route ${req.method} ${req.path}`,
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
