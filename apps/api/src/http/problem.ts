import { HttpException } from '@nestjs/common';
import { RequestContext } from '@herald/telemetry';
import type { Response } from 'express';

export interface FieldProblem {
  field: string;
  message: string;
}

/** RFC 9457 problem details, as every Herald error leaves the api. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors: FieldProblem[];
  request_id: string | undefined;
}

export const PROBLEM_TYPE_BASE = 'https://herald.dev/problems/';

/** Stable problem types: clients may switch on `type`; titles never change for a type. */
export const PROBLEMS = {
  'validation-failed': { status: 400, title: 'Validation failed' },
  'malformed-json': { status: 400, title: 'Malformed JSON' },
  'malformed-request': { status: 400, title: 'Malformed request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not Found' },
  'method-not-allowed': { status: 405, title: 'Method Not Allowed' },
  'not-acceptable': { status: 406, title: 'Not Acceptable' },
  conflict: { status: 409, title: 'Conflict' },
  'payload-too-large': { status: 413, title: 'Payload Too Large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported Media Type' },
  'request-timeout': { status: 408, title: 'Request Timeout' },
  'idempotency-key-reused': { status: 422, title: 'Idempotency key reused' },
  'rate-limited': { status: 429, title: 'Too Many Requests' },
  internal: { status: 500, title: 'Internal Server Error' },
  unavailable: { status: 503, title: 'Service Unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemKind = keyof typeof PROBLEMS;

export function problem(kind: ProblemKind, detail: string, errors: FieldProblem[] = []): ProblemDetails {
  const { status, title } = PROBLEMS[kind];
  return {
    type: PROBLEM_TYPE_BASE + kind,
    title,
    status,
    detail,
    errors,
    request_id: RequestContext.current().request_id,
  };
}

/** Throw from a controller, guard or pipe; the filter writes it as is (with any headers). */
export class ProblemException extends HttpException {
  constructor(
    readonly problem: ProblemDetails,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(problem.detail, problem.status);
    this.name = 'ProblemException';
  }

  static of(
    kind: ProblemKind,
    detail: string,
    errors: FieldProblem[] = [],
    headers: Record<string, string> = {},
  ): ProblemException {
    return new ProblemException(problem(kind, detail, errors), headers);
  }
}

/** Writes a problem from plain Express middleware (outside Nest's filters). */
export function sendProblem(
  res: Response,
  details: ProblemDetails,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.status(details.status).type('application/problem+json').send(JSON.stringify(details));
}
