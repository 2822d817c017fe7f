/** The request is not from the provider it claims (or is a replay of an old one): 401, nothing recorded. */
export class ProviderSignatureError extends Error {
  constructor(
    message: string,
    /** `replay`: a good signature seen before or too old; `bad_signature`: anything else. */
    readonly outcome: 'bad_signature' | 'replay' = 'bad_signature',
  ) {
    super(message);
    this.name = 'ProviderSignatureError';
  }
}

/** A signed body Herald cannot read as the provider's format: 400 naming the field. */
export class ProviderPayloadError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ProviderPayloadError';
  }
}

/** No provider webhook is set up for this account and provider: 401 like a bad signature (nothing to verify with). */
export class ProviderNotConfiguredError extends ProviderSignatureError {
  constructor() {
    super('this sender account has no webhook verification for this provider');
    this.name = 'ProviderNotConfiguredError';
  }
}

/** A step that needs the provider (confirming an SNS subscription) failed: 503, the provider retries. */
export class ProviderUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProviderUnavailableError';
  }
}

/** A signature check that throws on garbage (a malformed DER signature) is a signature that does not hold. */
export function signatureHolds(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}
