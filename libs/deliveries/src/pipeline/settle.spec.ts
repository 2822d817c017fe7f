import { BatchDecisions } from './decisions';
import type { CircuitTally } from './breaker';
import { SettleStage } from './settle';
import { context, recordingStep, reservation } from './testing-fakes';

function fakes() {
  const calls: string[] = [];
  const counted: string[] = [];
  const stage = new SettleStage(
    {
      settle: (action, reservations) => {
        calls.push(`${action} ${reservations.map((r) => r.id).join(',')}`);
        return Promise.resolve();
      },
    },
    {
      record: (tally: CircuitTally) => {
        calls.push(`circuit ${tally.key.account} ${tally.successes}/${tally.failures}`);
        return Promise.resolve();
      },
    },
    {
      completeRuns: (runs) => {
        calls.push(`complete ${runs.map((r) => r.id).join(',')}`);
        return Promise.resolve([]);
      },
    },
    {
      deliveries: {
        inc: (labels: { channel: string; outcome: string }) =>
          counted.push(`${labels.channel} ${labels.outcome}`),
      },
      deliveriesUnknown: { inc: (labels: { channel: string }) => counted.push(`unknown ${labels.channel}`) },
      countAccountDelivery: (account: string, outcome: string) =>
        counted.push(`account ${account} ${outcome}`),
    } as never, // prom-client counters: only `inc` is used here
    recordingStep(),
  );
  return { stage, calls, counted };
}

describe('settle stage', () => {
  it('commits what was sent, refunds the rest, and tells each circuit how its sends went', async () => {
    const { stage, calls, counted } = fakes();
    const decisions = new BatchDecisions();
    decisions.commits.push(reservation('a'), reservation('b'));
    decisions.refunds.push(reservation('c'));
    await stage.afterSends(
      decisions,
      [{ key: { channel: 'webhook', account: 'a1' }, successes: 2, failures: 1 }],
      [{ channel: 'smtp' }],
    );
    expect(calls).toEqual(['commit a:r,b:r', 'refund c:r', 'circuit a1 2/1']);
    expect(counted).toEqual(['unknown smtp']);
  });

  it('completes the runs this batch finished deliveries of (not those only waiting) and counts outcomes', async () => {
    const { stage, calls, counted } = fakes();
    const decisions = new BatchDecisions();
    const sent = context({ id: 'd1', runId: 'r1' });
    const waiting = context({ id: 'd2', runId: 'r2' });
    const again = context({ id: 'd3', runId: 'r2' });
    const single = context({ id: 'd4', runId: null });
    decisions.decide(sent, { kind: 'sent' });
    decisions.decide(waiting, { kind: 'delay', until: 1, reason: 'circuit open' });
    decisions.decide(again, { kind: 'again' });
    decisions.decide(single, { kind: 'skipped', reason: 'suppressed' });
    await stage.finish([sent, waiting, again, single], decisions);
    expect(calls).toEqual(['complete r1']);
    expect(counted).toEqual(['webhook sent', 'account a1 sent', 'webhook deferred', 'webhook skipped']); // a delay is `deferred`, its reason a label of its own
  });

  it('counts each sent or failed delivery against its sender account, nothing else', async () => {
    const { stage, counted } = fakes();
    const decisions = new BatchDecisions();
    const sent = context({ id: 'd1', senderAccountId: 'acc-1' });
    const failed = context({ id: 'd2', senderAccountId: 'acc-2' });
    const skipped = context({ id: 'd3', senderAccountId: 'acc-1' });
    decisions.decide(sent, { kind: 'sent' });
    decisions.decide(failed, { kind: 'failed', reason: 'rejected' });
    decisions.decide(skipped, { kind: 'skipped', reason: 'suppressed' });
    await stage.finish([sent, failed, skipped], decisions);
    expect(counted.filter((c) => c.startsWith('account'))).toEqual([
      'account acc-1 sent',
      'account acc-2 failed',
    ]);
  });
});
