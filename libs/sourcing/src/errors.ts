/** A request the sourcing domain refuses, field by field (the api answers 400 naming each field). */
export class SourcingValidationError extends Error {
  constructor(readonly errors: readonly { field: string; message: string }[]) {
    super(errors.map((e) => `${e.field}: ${e.message}`).join('; '));
    this.name = 'SourcingValidationError';
  }

  static of(field: string, message: string): SourcingValidationError {
    return new SourcingValidationError([{ field, message }]);
  }
}

/** A change the current state does not allow (the api answers 409). */
export class SourcingStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourcingStateError';
  }
}

/** A part the change needs (Redis) did not answer in time; nothing was written (the api answers 503). */
export class SourcingUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourcingUnavailableError';
  }
}
