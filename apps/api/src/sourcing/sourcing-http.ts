import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { SourcingStateError, SourcingValidationError } from '@herald/sourcing';
import type { Response } from 'express';
import { problem, sendProblem } from '../http/problem';

/** The sourcing domain's refusals as problems: 400 naming each field, 409 for a state that does not allow it. */
@Catch(SourcingValidationError, SourcingStateError)
export class SourcingErrorsFilter implements ExceptionFilter {
  catch(exception: SourcingValidationError | SourcingStateError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof SourcingValidationError)
      sendProblem(res, problem('validation-failed', 'The request body is invalid.', [...exception.errors]));
    else sendProblem(res, problem('conflict', exception.message));
  }
}
