import {
  PermanentChannelError,
  TransientChannelError,
  UnknownChannelError,
  type Channel,
  type ChannelRegistry,
  type SendOptions,
} from '@herald/channels';
import type { CircuitTally } from './breaker';
import { sendOne } from './send';
import { ready } from './testing-fakes';

function registry(send: Channel['send']): Pick<ChannelRegistry, 'get'> {
  return { get: () => ({ name: 'webhook', send }) };
}

const tally = (): CircuitTally => ({ key: { channel: 'webhook', account: 'a1' }, failures: 0, successes: 0 });
const message = {
  deliveryId: 'd1',
  campaignId: 'g1',
  runId: 'r1',
  contact: { id: 'c', email: null, firstName: null, lastName: null, externalRef: null },
  subject: null,
  body: 'hi',
};

describe('send stage', () => {
  it('sends with the delivery key as idempotency key and counts a success for the circuit', async () => {
    const seen: SendOptions[] = [];
    const t = tally();
    const verdict = await sendOne(
      registry((_m, options) => {
        seen.push(options);
        return Promise.resolve({ providerMessageId: 'pm-1' });
      }),
      ready('d1', { message, account: { ...ready('x').account, config: { url: 'http://x' } } }),
      { attempt: 1, token: 'tok' },
      t,
    );
    expect(verdict).toEqual({ kind: 'sent', providerMessageId: 'pm-1' });
    expect(seen).toEqual([
      { idempotencyKey: 'bc:r1:d1', account: { id: 'a1', config: { url: 'http://x' } } },
    ]);
    expect(t).toMatchObject({ successes: 1, failures: 0 });
  });

  it('retries a transient error (counted against the circuit) until the last attempt, then fails it', async () => {
    const t = tally();
    const flaky = registry(() =>
      Promise.reject(new TransientChannelError('webhook answered 503', 'http_503', { retryAfterMs: 2000 })),
    );
    expect(await sendOne(flaky, ready('d1', { message }), { attempt: 1, token: 'tok' }, t)).toEqual({
      kind: 'retry',
      reason: 'webhook answered 503',
      retryAfterMs: 2000,
    });
    expect(await sendOne(flaky, ready('d1', { message }), { attempt: 99, token: 'tok' }, t)).toMatchObject({
      kind: 'failed',
      permanent: false,
    });
    expect(t).toMatchObject({ successes: 0, failures: 2 });
  });

  it('fails a permanent refusal (the provider is up) and a channel this worker lacks (no verdict on the provider)', async () => {
    const t = tally();
    const refusal = registry(() =>
      Promise.reject(new PermanentChannelError('webhook answered 410', 'http_410')),
    );
    expect(await sendOne(refusal, ready('d1', { message }), { attempt: 1, token: 'tok' }, t)).toEqual({
      kind: 'failed',
      reason: 'webhook answered 410',
      error: 'webhook answered 410',
      permanent: true,
    });
    const missing: Pick<ChannelRegistry, 'get'> = {
      get: () => {
        throw new UnknownChannelError('carrier-pigeon');
      },
    };
    expect(await sendOne(missing, ready('d1', { message }), { attempt: 1, token: 'tok' }, t)).toMatchObject({
      kind: 'failed',
      permanent: true,
    });
    expect(t).toMatchObject({ successes: 1, failures: 0 });
  });
});
