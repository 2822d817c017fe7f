import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { SourcingStateError, SourcingUnavailableError, SourcingValidationError } from '@herald/sourcing';
import type { Response } from 'express';
import { problem, sendProblem } from '../http/problem';

/**
 * The sourcing domain's refusals as problems: 400 naming each field, 409 for a state that does
 * not allow it, 503 (retry shortly) when Redis did not answer and nothing was written.
 */
@Catch(SourcingValidationError, SourcingStateError, SourcingUnavailableError)
export class SourcingErrorsFilter implements ExceptionFilter {
  catch(
    exception: SourcingValidationError | SourcingStateError | SourcingUnavailableError,
    host: ArgumentsHost,
  ): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof SourcingValidationError)
      sendProblem(res, problem('validation-failed', 'The request body is invalid.', [...exception.errors]));
    else if (exception instanceof SourcingUnavailableError)
      sendProblem(res, problem('unavailable', 'Redis is unavailable right now; retry shortly.'), {
        'Retry-After': '1',
      });
    else sendProblem(res, problem('conflict', exception.message));
  }
}
