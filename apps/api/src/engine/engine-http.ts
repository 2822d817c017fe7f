import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { CampaignStateError, CampaignValidationError, UnknownSenderAccountError } from '@herald/campaigns';
import type { Response } from 'express';
import type { z } from 'zod';
import { problem, ProblemException, sendProblem, type FieldProblem } from '../http/problem';
import { ZodPipe } from '../http/validation.pipes';

/** `steps.0.body` → `steps[0].body`: array positions read as indexes in the engine's field names. */
export function indexedField(field: string): string {
  return field.replace(/\.(\d+)(?=\.|$)/g, '[$1]');
}

function indexed(errors: readonly FieldProblem[]): FieldProblem[] {
  return errors.map((e) => ({ field: indexedField(e.field), message: e.message }));
}

/** ZodPipe whose field names show array positions as `[i]` (`steps[0].body`). */
export class IndexedZodPipe<S extends z.ZodType> extends ZodPipe<S> {
  override transform(value: unknown): z.output<S> {
    try {
      return super.transform(value);
    } catch (error) {
      if (!(error instanceof ProblemException)) throw error;
      throw new ProblemException({ ...error.problem, errors: indexed(error.problem.errors) }, error.headers);
    }
  }
}

/** The campaign domain's errors as problems: 400 naming fields, 404 naming the field, 409. */
@Catch(UnknownSenderAccountError, CampaignValidationError, CampaignStateError)
export class CampaignErrorsFilter implements ExceptionFilter {
  catch(
    exception: UnknownSenderAccountError | CampaignValidationError | CampaignStateError,
    host: ArgumentsHost,
  ): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof UnknownSenderAccountError) {
      sendProblem(
        res,
        problem('not-found', 'No such sender account.', [
          { field: exception.field, message: 'names no sender account of this tenant' },
        ]),
      );
    } else if (exception instanceof CampaignValidationError) {
      sendProblem(
        res,
        problem('validation-failed', 'The request body is invalid.', indexed(exception.errors)),
      );
    } else {
      sendProblem(res, problem('conflict', exception.message));
    }
  }
}

/**
 * Work on Redis from a request, bounded: BullMQ queues commands while disconnected and ioredis
 * fails them fast, so both an outage and a hang answer 503 (retry later) instead of a 500.
 */
export async function withRedis<T>(work: () => Promise<T>, timeoutMs = 2000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const unavailable = () =>
    ProblemException.of('unavailable', 'Redis is unavailable right now; retry shortly.', [], {
      'Retry-After': '1',
    });
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable()), timeoutMs);
  });
  try {
    return await Promise.race([
      work().catch((error: unknown) => {
        throw isConnectionError(error) ? unavailable() : error;
      }),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** ioredis' ways of saying Redis cannot be reached (offline queue disabled, retries spent, socket errors). */
function isConnectionError(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'MaxRetriesPerRequestError' ||
      /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|Command timed out/i.test(
        error.message,
      ))
  );
}
