import { errorText, isTransientInfraError, TransientStageError } from './stage-errors';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isTransientInfraError', () => {
  it.each([
    [
      'Postgres shutting down (57P01)',
      withCode('terminating connection due to administrator command', '57P01'),
    ],
    ['Postgres starting up (57P03)', withCode('the database system is starting up', '57P03')],
    ['a statement timeout (57014)', withCode('canceling statement due to statement timeout', '57014')],
    ['too many connections (53300)', withCode('sorry, too many clients already', '53300')],
    ['a connection failure (08006)', withCode('connection failure', '08006')],
    ['a deadlock (40P01)', withCode('deadlock detected', '40P01')],
    ['a refused socket', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['pg losing its connection', new Error('Connection terminated unexpectedly')],
    ['pg-pool timing out', new Error('timeout exceeded when trying to connect')],
    [
      'ioredis while reconnecting',
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
    ],
    [
      'ioredis giving up a command',
      Object.assign(new Error('Reached the max retries per request limit'), {
        name: 'MaxRetriesPerRequestError',
      }),
    ],
    [
      'TypeORM after the connection dropped',
      Object.assign(new Error('Query runner already released'), { name: 'QueryRunnerAlreadyReleasedError' }),
    ],
    [
      'a TypeORM QueryFailedError wrapping one',
      Object.assign(new Error('x'), { name: 'QueryFailedError', driverError: withCode('y', '57P01') }),
    ],
    ['an error caused by one', new Error('quota lease failed', { cause: withCode('refused', 'ECONNRESET') })],
    [
      'an AggregateError of refused addresses',
      Object.assign(new AggregateError([withCode('a', 'ECONNREFUSED')], ''), {}),
    ],
  ])('%s is transient', (_name, error) => {
    expect(isTransientInfraError(error)).toBe(true);
  });

  it.each([
    ['a constraint violation (23505)', withCode('duplicate key value violates unique constraint', '23505')],
    ['a syntax error (42601)', withCode('syntax error at or near', '42601')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    [
      'a Redis script error',
      Object.assign(new Error('ERR refund keys do not match'), { name: 'ReplyError' }),
    ],
    ['not an error at all', 'boom'],
  ])('%s is not', (_name, error) => {
    expect(isTransientInfraError(error)).toBe(false);
  });

  it('survives a cause cycle', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(isTransientInfraError(a)).toBe(false);
  });
});

describe('TransientStageError', () => {
  it('names the stage and the real cause, with its code', () => {
    const error = new TransientStageError(
      'claim',
      withCode('terminating connection due to administrator command', '57P01'),
    );
    expect(error.message).toBe(
      'claim: terminating connection due to administrator command (57P01) (transient: retried, then handed back to the queue)',
    );
    expect(errorText('plain')).toBe('plain');
  });
});
