/** Another contact of the tenant already has this email or external_ref. */
export class ContactConflictError extends Error {
  constructor(readonly field: 'email' | 'external_ref') {
    super(`another contact already has this ${field}`);
    this.name = 'ContactConflictError';
  }
}

/** The contact an interaction or suppression names is not one of the tenant's contacts. */
export class UnknownContactError extends Error {
  constructor(readonly field: string) {
    super('no such contact');
    this.name = 'UnknownContactError';
  }
}

/** A suppression for this email or contact exists already. */
export class SuppressionExistsError extends Error {
  constructor(readonly existingId: string) {
    super('this target is already suppressed');
    this.name = 'SuppressionExistsError';
  }
}

/** A change that is valid field by field but not as a whole (e.g. it would clear both identifiers). */
export class ContactValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ContactValidationError';
  }
}

/** The import body itself is unusable (not a JSON array, broken CSV header…): nothing was imported. */
export class ImportFormatError extends Error {
  constructor(
    message: string,
    readonly errors: readonly { field: string; message: string }[] = [],
    readonly format: 'json' | 'csv' = 'csv',
  ) {
    super(message);
    this.name = 'ImportFormatError';
  }
}
