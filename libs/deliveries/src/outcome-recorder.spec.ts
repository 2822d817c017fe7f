import type { LedgerRepository } from './ledger.repository';
import { OutcomeRecorder, type FailedRecord, type SentRecord } from './outcome-recorder';

type Ledger = Pick<LedgerRepository, 'markSent' | 'markFailed' | 'release'>;
const refused = () => Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
const sent = (id: string): SentRecord => ({ tenantId: 't', id, providerMessageId: `pm-${id}` });

describe('OutcomeRecorder', () => {
  it('writes the records of one moment in one statement, retrying a refused write until it lands', async () => {
    const statements: string[][] = [];
    let refusals = 2;
    const ledger: Ledger = {
      markSent: (items) => {
        statements.push(items.map((i) => i.id));
        if (refusals-- > 0) return Promise.reject(refused());
        return Promise.resolve(items.length);
      },
      markFailed: () => Promise.resolve(),
      release: () => Promise.resolve(),
    };
    const retries: string[] = [];
    const recorder = new OutcomeRecorder(ledger, (what, _e, attempt) => retries.push(`${what} #${attempt}`));
    await Promise.all([recorder.sent(sent('a')), recorder.sent(sent('b')), recorder.sent(sent('c'))]);
    expect(statements).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
    ]);
    expect(retries).toEqual(['record sent #1', 'record sent #2']);
  });

  it('writes failures and releases per claim token', async () => {
    const calls: { kind: string; ids: string[]; token: string | null }[] = [];
    const ledger: Ledger = {
      markSent: () => Promise.resolve(0),
      markFailed: (items, token) => {
        calls.push({ kind: 'failed', ids: items.map((i) => i.id), token: token ?? null });
        return Promise.resolve();
      },
      release: (items, token) => {
        calls.push({ kind: 'released', ids: items.map((i) => i.id), token });
        return Promise.resolve();
      },
    };
    const recorder = new OutcomeRecorder(ledger);
    const failure = (id: string): FailedRecord => ({ tenantId: 't', id, error: 'smtp 550', permanent: true });
    await Promise.all([
      recorder.failed(failure('a'), 'tok-1'),
      recorder.failed(failure('b'), 'tok-2'),
      recorder.failed(failure('c'), 'tok-1'),
      recorder.released({ tenantId: 't', id: 'd', error: 'timeout' }, 'tok-2'),
    ]);
    expect(calls).toEqual([
      { kind: 'failed', ids: ['a', 'c'], token: 'tok-1' },
      { kind: 'failed', ids: ['b'], token: 'tok-2' },
      { kind: 'released', ids: ['d'], token: 'tok-2' },
    ]);
  });

  it('rejects at once on an error that is not an outage', async () => {
    const bug = new Error('column "pmid" does not exist');
    const ledger: Ledger = {
      markSent: () => Promise.reject(bug),
      markFailed: () => Promise.resolve(),
      release: () => Promise.resolve(),
    };
    await expect(new OutcomeRecorder(ledger).sent(sent('a'))).rejects.toBe(bug);
  });
});
