import { PermanentChannelError, TransientChannelError, UnknownChannelError } from '@herald/channels';
import { DEFAULT_RETRY_POLICY } from '@herald/resilience';
import { classifySendError } from './send-errors';

describe('classifySendError', () => {
  it('fails a refused message at once, with what the provider said', () => {
    expect(classifySendError(new PermanentChannelError('smtp 550 5.1.1 at RCPT TO', 'smtp_550'), 1)).toEqual({
      kind: 'failed',
      reason: 'smtp 550 5.1.1 at RCPT TO',
      error: 'smtp 550 5.1.1 at RCPT TO',
      permanent: true,
    });
  });

  it('fails a channel this worker does not have, saying what to do', () => {
    const failure = classifySendError(new UnknownChannelError('sms'), 1);
    expect(failure).toMatchObject({ kind: 'failed', permanent: true });
    expect(failure.reason).toMatch(/unknown channel "sms".*upgrade the worker/);
  });

  it('retries a transient error with the provider’s Retry-After, until the last attempt', () => {
    const busy = new TransientChannelError('webhook answered 429', 'http_429', { retryAfterMs: 30_000 });
    expect(classifySendError(busy, 1)).toEqual({
      kind: 'retry',
      reason: 'webhook answered 429',
      retryAfterMs: 30_000,
    });
    expect(classifySendError(busy, DEFAULT_RETRY_POLICY.maxAttempts)).toEqual({
      kind: 'failed',
      reason: 'webhook answered 429',
      error: `webhook answered 429 (after ${DEFAULT_RETRY_POLICY.maxAttempts} attempts)`,
      permanent: false,
    });
  });

  it('retries an error no channel should throw, without a hint', () => {
    expect(classifySendError(new TypeError('boom'), 2)).toEqual({
      kind: 'retry',
      reason: 'boom',
      retryAfterMs: undefined,
    });
  });
});
