import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule, type Params } from 'nestjs-pino';
import type { DynamicModule } from '@nestjs/common';
import { RequestContext } from './request-context';

/** Everything that may carry a credential, wherever it appears in a log object. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.pass',
  '*.secret',
  '*.token',
  '*.apiKey',
  '*.api_key',
  '*.key',
  '*.credentials',
  '*.authorization',
  '*.*.password',
  '*.*.secret',
  '*.*.credentials',
  'config.auth',
  'password',
  'secret',
  'credentials',
  'api_key',
];

/** A request URL as logged: a `token` query value (a one-time console sign-in link) never reaches a log. */
export function loggedUrl(url: string | undefined): string | undefined {
  return url?.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

export function serviceName(config: HeraldConfig): string {
  return config.telemetry.serviceName || `herald-${config.app.role}`;
}

/** nestjs-pino configured for Herald from HERALD_CONFIG. */
export function loggerModule(): DynamicModule {
  return LoggerModule.forRootAsync({ inject: [HERALD_CONFIG], useFactory: loggerParams });
}

/** JSON (or pretty) lines with service and correlation fields. */
function loggerParams(config: HeraldConfig): Params {
  const pretty = config.telemetry.logFormat === 'pretty';
  return {
    pinoHttp: {
      level: config.telemetry.logLevel,
      base: { service: serviceName(config), version: config.app.version },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      messageKey: 'msg',
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => {
        const { request_id, job_id, queue, tenant_id } = RequestContext.current();
        return { request_id, job_id, queue, tenant_id };
      },
      // The request id middleware runs first and sets req.id; pino-http reuses it.
      genReqId: (req: IncomingMessage) =>
        (req as IncomingMessage & { id?: string }).id ?? RequestContext.current().request_id ?? '',
      customProps: () => ({}),
      autoLogging: {
        ignore: (req) => isProbe((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url),
      },
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: loggedUrl(req.url),
        }),
        res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      },
      customSuccessMessage: (req: IncomingMessage, res: ServerResponse) =>
        `${req.method} ${loggedUrl(req.url)} ${res.statusCode}`,
      customErrorMessage: (req: IncomingMessage, res: ServerResponse) =>
        `${req.method} ${loggedUrl(req.url)} ${res.statusCode}`,
      ...(pretty
        ? {
            transport: {
              target: 'pino-pretty',
              options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,version' },
            },
          }
        : {}),
    },
    forRoutes: ['*path'],
  };
}

function isProbe(url: string | undefined): boolean {
  return url === '/health' || url === '/ready' || url === '/metrics';
}
