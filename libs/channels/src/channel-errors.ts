/** A send that failed. `code` is a short machine-readable reason for the ledger's last_error. */
export abstract class ChannelError extends Error {
  abstract readonly transient: boolean;

  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Worth retrying: timeouts, connection errors, 4xx SMTP replies, HTTP 408/429/5xx. */
export class TransientChannelError extends ChannelError {
  readonly transient = true;
  /** The provider's own hint (Retry-After), when it gave one. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, code: string, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, code, options);
    this.name = 'TransientChannelError';
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Retrying cannot help: 5xx SMTP replies, HTTP 4xx (but 408/429), invalid config or recipient. */
export class PermanentChannelError extends ChannelError {
  readonly transient = false;

  constructor(message: string, code: string, options: { cause?: unknown } = {}) {
    super(message, code, options);
    this.name = 'PermanentChannelError';
  }
}
