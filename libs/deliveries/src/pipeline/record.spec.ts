import type { LedgerRepository } from '../ledger.repository';
import { BatchDecisions } from './decisions';
import { RecordStage } from './record';
import { context, ready, recordingStep, reservation } from './testing-fakes';

type Ledger = Pick<LedgerRepository, 'markUnknown' | 'markFailed' | 'defer' | 'settle'>;

function fakes() {
  const written: string[] = [];
  const recorder = {
    sent: (item: { id: string; providerMessageId: string }) => {
      written.push(`sent ${item.id} ${item.providerMessageId}`);
      return Promise.resolve();
    },
    failed: (item: { id: string; error: string; permanent: boolean }, token: string) => {
      written.push(`failed ${item.id} ${token} ${item.permanent}`);
      return Promise.resolve();
    },
    released: (item: { id: string; error: string }, token: string) => {
      written.push(`released ${item.id} ${token}`);
      return Promise.resolve();
    },
  };
  const ledger: Ledger = {
    markUnknown: (items) => {
      written.push(`unknown ${items.map((i) => i.id).join(',')}`);
      return Promise.resolve(items.map(() => ({ channel: 'smtp' })));
    },
    markFailed: (items, token) => {
      written.push(`failed-unclaimed ${items.map((i) => i.id).join(',')} ${token ?? null}`);
      return Promise.resolve();
    },
    defer: (items) => {
      written.push(`deferred ${items.map((i) => i.id).join(',')}`);
      return Promise.resolve();
    },
    settle: (items, status) => {
      written.push(`${status} ${items.map((i) => i.id).join(',')}`);
      return Promise.resolve();
    },
  };
  return { written, recorder, ledger };
}

describe('record stage', () => {
  it('records a send that went out and commits its unit; a refusal fails it under its claim and refunds', async () => {
    const { written, recorder, ledger } = fakes();
    const stage = new RecordStage(recorder, ledger, recordingStep(), () => 1000);
    const decisions = new BatchDecisions();
    const claim = { attempt: 1, token: 'tok' };
    await stage.send(
      ready('d1', { reservation: reservation('d1') }),
      claim,
      { kind: 'sent', providerMessageId: 'pm' },
      decisions,
    );
    await stage.send(
      ready('d2', { reservation: reservation('d2') }),
      claim,
      { kind: 'failed', reason: 'answered 410', error: 'answered 410', permanent: true },
      decisions,
    );
    expect(written).toEqual(['sent d1 pm', 'failed d2 tok true']);
    expect(decisions.outcomes.get('d1')).toEqual({ kind: 'sent' });
    expect(decisions.outcomes.get('d2')).toEqual({ kind: 'failed', reason: 'answered 410' });
    expect(decisions.commits.map((r) => r.id)).toEqual(['d1:r']);
    expect(decisions.refunds.map((r) => r.id)).toEqual(['d2:r']);
  });

  it('releases a transient failure under its claim, to come back after a backoff', async () => {
    const { written, recorder, ledger } = fakes();
    const stage = new RecordStage(recorder, ledger, recordingStep(), () => 1000);
    const decisions = new BatchDecisions();
    await stage.send(
      ready('d1', { reservation: reservation('d1') }),
      { attempt: 2, token: 'tok' },
      { kind: 'retry', reason: 'answered 503', retryAfterMs: 30_000 },
      decisions,
    );
    expect(written).toEqual(['released d1 tok']);
    expect(decisions.outcomes.get('d1')).toMatchObject({ kind: 'delay', reason: 'transient error' });
    const outcome = decisions.outcomes.get('d1');
    expect(outcome?.kind === 'delay' && outcome.until).toBeGreaterThanOrEqual(31_000);
    expect(decisions.refunds.map((r) => r.id)).toEqual(['d1:r']);
  });

  it('writes the batch’s decisions that need no send in one step, and says which moved to unknown', async () => {
    const { written, recorder, ledger } = fakes();
    const steps: string[] = [];
    const stage = new RecordStage(recorder, ledger, recordingStep(steps), () => 1000);
    const decisions = new BatchDecisions();
    decisions.holdUnknown(context({ id: 'u' }), 'unknown');
    decisions.failBeforeClaim(context({ id: 'f' }), 'account gone');
    decisions.defer(context({ id: 'w' }), new Date(5000), 'window', 'window closed');
    decisions.skip(context({ id: 's' }), 'suppressed');
    decisions.cancel(context({ id: 'c' }), 'run cancelled');
    expect(await stage.decisions(decisions)).toEqual([{ channel: 'smtp' }]);
    expect(steps).toEqual(['record']);
    expect(written).toEqual([
      'unknown u',
      'failed-unclaimed f null',
      'deferred w',
      'skipped s',
      'cancelled c',
    ]);
  });
});
