import { HeraldLogger } from './herald-logger';
import type { INestApplication } from '@nestjs/common';
import type { HeraldConfig } from '@herald/config';
import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import { drainServers, InFlightRequests } from './http-drain';
import { answerClientErrors } from './client-errors';
import { httpMetrics, requestContext } from './http-middleware';
import { HeraldMetrics } from './metrics';
import { ServerPorts } from './routes';

export interface ServeOptions {
  /** Listen on the public port too (api and all); worker and beat serve only the ops port. */
  public: boolean;
}

/**
 * Binds the app's HTTP servers and owns the process lifecycle: on SIGTERM or SIGINT it stops
 * accepting, drains the servers (idle and stalled connections cut, the rest cut as the grace
 * ends), lets Nest run its shutdown hooks (jobs finish or are handed back within the grace) and
 * exits 0. A second signal, or a hang past the grace, exits 1.
 */
export async function serve(
  app: INestApplication,
  config: HeraldConfig,
  options: ServeOptions,
): Promise<{ port?: number; opsPort: number }> {
  const logger = app.get(HeraldLogger);
  const express = app.getHttpAdapter().getInstance() as Express;
  const metrics = app.get(HeraldMetrics);
  // The bound ports, filled in once listening (port 0 means "any free port"): which listener a
  // request arrived on decides, with the matched route's declared access, whether it is served.
  const bound = app.get(ServerPorts);
  // Middleware order matters: context first so every later line carries the request id.
  express.use(requestContext());
  express.use(httpMetrics(metrics));

  let port: number | undefined;
  const servers: Server[] = [];
  if (options.public) {
    await app.listen(config.http.port, config.http.host);
    port = addressPort(app.getHttpServer() as Server);
    keepAliveLongerThanClients(app.getHttpServer() as Server);
    answerClientErrors(app.getHttpServer() as Server);
    bound.publicPort = port;
  } else {
    await app.init();
  }
  const ops = createServer(express);
  keepAliveLongerThanClients(ops);
  answerClientErrors(ops);
  servers.push(ops);
  await new Promise<void>((resolve, reject) => {
    ops.once('error', reject);
    ops.listen(config.http.opsPort, config.http.host, () => resolve());
  });
  const opsPort = addressPort(ops);
  bound.opsPort = opsPort;
  logger.info({ port, ops_port: opsPort, role: config.app.role }, `herald ${config.app.role} listening`);

  // Shutdown: what the servers are working on, so a drain can cut the requests that stalled.
  const http = options.public ? [app.getHttpServer() as Server, ...servers] : servers;
  const inFlight = new InFlightRequests();
  for (const server of http) inFlight.watch(server);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, grace_ms: config.app.shutdownGraceMs }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ grace_ms: config.app.shutdownGraceMs }, 'shutdown exceeded the grace period: exiting');
      process.exit(1);
    }, config.app.shutdownGraceMs + 5000);
    deadline.unref();
    void drainServers(http, inFlight, config.app.shutdownGraceMs);
    app
      .close()
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return { port, opsPort };
}

function addressPort(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('server is not listening on a TCP port');
  return address.port;
}

/**
 * Idle keep-alive connections stay open longer than clients and load balancers keep theirs
 * (undici 4 s, AWS ALB 60 s): the side that closes an idle connection must be the client, or a
 * request sent on it just as the server closes it fails ("other side closed", a 502 at the LB).
 */
function keepAliveLongerThanClients(server: Server): void {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
}
