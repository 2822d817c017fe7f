import { ArgumentsHost, Catch, HttpException, HttpStatus, type ExceptionFilter } from '@nestjs/common';
import { RequestContext } from '@herald/telemetry';
import type { Response } from 'express';
import { PinoLogger } from 'nestjs-pino';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
  request_id?: string;
}

const TYPE_BASE = 'https://herald.dev/problems/';

/** Every error leaves as RFC 9457 problem+json with a stable type and the request id; never a stack. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: PinoLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const problem = this.toProblem(exception);
    if (problem.status >= 500) this.logger.error({ err: exception }, 'request failed');
    res.status(problem.status).type('application/problem+json').json(problem);
  }

  private toProblem(exception: unknown): ProblemDetails {
    const request_id = RequestContext.current().request_id;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const detail =
        typeof body === 'string'
          ? body
          : typeof body === 'object' && body !== null && 'message' in body
            ? String(body.message)
            : exception.message;
      const errors =
        typeof body === 'object' && body !== null && 'errors' in body
          ? (body.errors as ProblemDetails['errors'])
          : undefined;
      return {
        type: TYPE_BASE + slug(status),
        title: HttpStatus[status] ? title(status) : 'Error',
        status,
        detail,
        ...(errors ? { errors } : {}),
        request_id,
      };
    }
    return {
      type: TYPE_BASE + 'internal',
      title: 'Internal Server Error',
      status: 500,
      detail: 'An unexpected error occurred.',
      request_id,
    };
  }
}

function title(status: number): string {
  return String(HttpStatus[status])
    .toLowerCase()
    .split('_')
    .map((w) => w[0]?.toUpperCase() + w.slice(1))
    .join(' ');
}

function slug(status: number): string {
  return String(HttpStatus[status] ?? 'error')
    .toLowerCase()
    .replace(/_/g, '-');
}
