import {
  Catch,
  HttpException,
  NotFoundException,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import {
  ContactConflictError,
  ContactValidationError,
  ImportFormatError,
  InvalidInteractionPayloadError,
  UnknownContactError,
} from '@herald/contacts';
import { InvalidCursorError } from '@herald/persistence';
import { LastAdminKeyError } from '@herald/tenants';
import type { Request, Response } from 'express';
import { PinoLogger } from 'nestjs-pino';
import { RouteTable } from './route-table';
import {
  problem,
  ProblemException,
  sendProblem,
  type FieldProblem,
  type ProblemDetails,
  type ProblemKind,
} from './problem';

type Mapped = { details: ProblemDetails; headers: Record<string, string> };

const BY_STATUS: Partial<Record<number, ProblemKind>> = {
  400: 'malformed-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  408: 'request-timeout',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  422: 'idempotency-key-reused',
  429: 'rate-limited',
  503: 'unavailable',
};

/** Errors a database outage shows itself by: a 503 the client may retry, not a 500. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  '57P01',
  '57P03',
  '53300',
  '57014',
  '08006',
  '08001',
]);

/**
 * Every error leaves as RFC 9457 problem+json with a stable type, the fields that failed and the
 * request id: unknown route 404, known path with another method 405 (with Allow), domain errors
 * mapped to 400/404/409, outages 503. Never a stack trace, SQL text or class name: anything
 * unexpected is a generic 500, logged with its details on the server side only.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(
    private readonly logger: PinoLogger,
    private readonly routes: RouteTable,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const { details, headers } = this.map(exception, req);
    if (details.status >= 500) this.logger.error({ err: exception }, 'request failed');
    sendProblem(res, details, headers);
  }

  private map(exception: unknown, req: Request): Mapped {
    const plain = (
      kind: ProblemKind,
      detail: string,
      errors: FieldProblem[] = [],
      headers: Record<string, string> = {},
    ): Mapped => ({
      details: problem(kind, detail, errors),
      headers,
    });
    if (exception instanceof ProblemException)
      return { details: exception.problem, headers: { ...exception.headers } };
    if (exception instanceof ContactConflictError) {
      return plain('conflict', exception.message.replace(/^./, (c) => c.toUpperCase()) + '.', [
        { field: exception.field, message: 'is taken by another contact' },
      ]);
    }
    if (exception instanceof ContactValidationError) {
      return plain('validation-failed', 'The request body is invalid.', [
        { field: exception.field, message: exception.message },
      ]);
    }
    if (exception instanceof UnknownContactError) {
      return plain('not-found', 'No such contact.', [
        { field: exception.field, message: 'names no contact of this tenant' },
      ]);
    }
    if (exception instanceof InvalidInteractionPayloadError) {
      return plain('validation-failed', 'The interaction payload is invalid.', exception.errors);
    }
    if (exception instanceof LastAdminKeyError) return plain('conflict', exception.message);
    if (exception instanceof ImportFormatError) {
      return plain(exception.format === 'json' ? 'malformed-json' : 'validation-failed', exception.message, [
        ...exception.errors,
      ]);
    }
    if (exception instanceof InvalidCursorError) {
      return plain('validation-failed', 'The query string is invalid.', [
        { field: 'cursor', message: exception.message },
      ]);
    }
    if (exception instanceof HttpException) return this.fromHttpException(exception, req);
    if (isUnavailable(exception))
      return plain('unavailable', 'A dependency is unavailable right now; retry shortly.', [], {
        'Retry-After': '1',
      });
    return plain('internal', 'An unexpected error occurred.');
  }

  private fromHttpException(exception: HttpException, req: Request): Mapped {
    const status = exception.getStatus();
    // Nest's "no route" answer: 405 when the path exists with other methods, else 404.
    if (
      exception instanceof NotFoundException &&
      exception.message === `Cannot ${req.method} ${req.originalUrl}`
    ) {
      const allowed = this.routes.allowedMethods(req.path);
      if (allowed.length > 0) {
        return {
          details: problem(
            'method-not-allowed',
            `${req.method} is not allowed on ${req.path}; use ${allowed.join(', ')}.`,
          ),
          headers: { Allow: allowed.join(', ') },
        };
      }
      return { details: problem('not-found', `No route ${req.method} ${truncate(req.path)}.`), headers: {} };
    }
    const kind = BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'malformed-request');
    const body = exception.getResponse();
    const errors =
      typeof body === 'object' && body !== null && Array.isArray((body as { errors?: unknown }).errors)
        ? (body as { errors: FieldProblem[] }).errors.filter(
            (e) => typeof e?.field === 'string' && typeof e?.message === 'string',
          )
        : [];
    const message =
      typeof body === 'string'
        ? body
        : typeof body === 'object' && body !== null && 'message' in body
          ? body.message
          : undefined;
    const detail =
      status < 500 && typeof message === 'string'
        ? message
        : status >= 500
          ? 'An unexpected error occurred.'
          : exception.message;
    const details = problem(kind, detail, errors);
    details.status = status >= 500 && kind === 'internal' ? 500 : status;
    return { details, headers: {} };
  }
}

function isUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; driverError?: { code?: unknown }; message?: unknown } | null;
  const raw = e?.driverError?.code ?? e?.code;
  const code = typeof raw === 'string' ? raw : '';
  if (UNAVAILABLE_CODES.has(code)) return true;
  return (
    typeof e?.message === 'string' &&
    /timeout exceeded when trying to connect|Connection terminated/i.test(e.message)
  );
}

function truncate(path: string): string {
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}
