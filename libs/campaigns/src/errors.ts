/** The sender account a campaign names is not one of the tenant's. */
export class UnknownSenderAccountError extends Error {
  constructor(readonly field: string) {
    super('no such sender account');
    this.name = 'UnknownSenderAccountError';
  }
}

/** A change that is valid field by field but not for this campaign (e.g. two steps on a broadcast). */
export class CampaignValidationError extends Error {
  constructor(readonly errors: readonly { field: string; message: string }[]) {
    super(errors.map((e) => `${e.field} ${e.message}`).join('; '));
    this.name = 'CampaignValidationError';
  }
}

/** The request is well formed but the campaign or run is not in a state that allows it. */
export class CampaignStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CampaignStateError';
  }
}
