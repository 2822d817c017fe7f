import {
  ChannelError,
  PermanentChannelError,
  TransientChannelError,
  UnknownChannelError,
} from '@herald/channels';
import { DEFAULT_RETRY_POLICY } from '@herald/resilience';
import { errorText } from './stage-errors';

/** What a failed provider call means for its delivery. */
export type SendFailure =
  /** Final: `error` goes to the ledger, `reason` to the job. */
  | { kind: 'failed'; reason: string; error: string; permanent: boolean }
  /** Back to pending, to try again after a backoff (the provider's `Retry-After` when it gave one). */
  | { kind: 'retry'; reason: string; retryAfterMs: number | undefined };

/**
 * Permanent: the provider refused the message (a 5xx SMTP reply, an HTTP 4xx), or this worker
 * has no such channel (an image older than the account); retrying cannot help and the reason
 * says what to fix. Anything else — a transient provider error, or an error no channel should
 * throw — is retried up to the policy's attempts, then fails with what the last one said.
 */
export function classifySendError(error: unknown, attempt: number): SendFailure {
  if (error instanceof PermanentChannelError)
    return { kind: 'failed', reason: error.message, error: error.message, permanent: true };
  if (error instanceof UnknownChannelError) {
    const reason = `${error.message}: this worker cannot send through the account's channel (upgrade the worker, or move the campaign to another account)`;
    return { kind: 'failed', reason, error: reason, permanent: true };
  }
  // A channel's own message is already what the ledger should say; anything else gets its code.
  const message = error instanceof ChannelError ? error.message : errorText(error);
  if (attempt >= DEFAULT_RETRY_POLICY.maxAttempts)
    return {
      kind: 'failed',
      reason: message,
      error: `${message} (after ${attempt} attempts)`,
      permanent: false,
    };
  return {
    kind: 'retry',
    reason: message,
    retryAfterMs: error instanceof TransientChannelError ? error.retryAfterMs : undefined,
  };
}
