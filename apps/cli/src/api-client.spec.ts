import { problemError } from './api-client';
import { EXIT, exitCodeForStatus } from './exit-codes';

describe('exit codes for API answers', () => {
  it.each([
    [400, EXIT.usage],
    [401, EXIT.usage],
    [403, EXIT.usage],
    [413, EXIT.usage],
    [415, EXIT.usage],
    [404, EXIT.notFound],
    [503, EXIT.unreachable],
    [409, EXIT.failed],
    [422, EXIT.failed],
    [429, EXIT.failed],
    [500, EXIT.failed],
  ])('%i → %i', (status, code) => {
    expect(exitCodeForStatus(status)).toBe(code);
  });

  it('the codes are distinct and documented in order', () => {
    expect(Object.values(EXIT)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('problemError', () => {
  it('shows title and detail, the field errors, and Retry-After', () => {
    const error = problemError(
      429,
      { 'retry-after': '2' },
      JSON.stringify({
        type: 'https://herald.dev/problems/rate-limited',
        title: 'Too Many Requests',
        detail: 'Slow down.',
        errors: [{ field: 'limit', message: 'too high' }, { nonsense: true }],
      }),
    );
    expect(error.message).toBe('Too Many Requests: Slow down.');
    expect(error.fieldErrors).toEqual([{ field: 'limit', message: 'too high' }]);
    expect(error.retryAfterMs).toBe(2000);
    expect(error.exitCode).toBe(EXIT.failed);
    expect(error.status).toBe(429);
  });

  it('falls back to the status for a body that is not problem+json', () => {
    const error = problemError(502, {}, '<html>Bad gateway</html>');
    expect(error.message).toBe('HTTP 502');
    expect(error.fieldErrors).toEqual([]);
    expect(error.retryAfterMs).toBeUndefined();
  });

  it('does not repeat a detail equal to the title', () => {
    expect(problemError(404, {}, JSON.stringify({ title: 'Not Found', detail: 'Not Found' })).message).toBe(
      'Not Found',
    );
  });
});
