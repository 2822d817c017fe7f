import type { SendingAccount } from '../sender-accounts.repository';
import { UNKNOWN_REASON, resolveAccounts } from './account';
import { BatchDecisions } from './decisions';
import { PAUSED_RECHECK_MS } from './precheck';
import { account, context, recordingStep } from './testing-fakes';

const NOW = 1_000_000;

function accounts(byId: Record<string, SendingAccount | undefined>) {
  const lookups: string[] = [];
  return {
    lookups,
    repo: {
      forSending: (tenantId: string, id: string) => {
        lookups.push(`${tenantId}:${id}`);
        return Promise.resolve(byId[id]);
      },
    },
  };
}

describe('account stage', () => {
  it('looks each account up once per batch and passes on deliveries of active accounts', async () => {
    const { lookups, repo } = accounts({ a1: account(), a2: account({ id: 'a2' }) });
    const decisions = new BatchDecisions();
    const ready = await resolveAccounts(
      repo,
      recordingStep(),
      [context({ id: 'd1' }), context({ id: 'd2', senderAccountId: 'a2' }), context({ id: 'd3' })],
      NOW,
      decisions,
    );
    expect(lookups).toEqual(['t1:a1', 't1:a2']);
    expect(ready.map((r) => [r.ctx.id, r.account.id])).toEqual([
      ['d1', 'a1'],
      ['d2', 'a2'],
      ['d3', 'a1'],
    ]);
  });

  it('fails deliveries of a deleted or disabled account with what to do, and waits out a paused one', async () => {
    const { repo } = accounts({
      off: account({ id: 'off', status: 'disabled' }),
      zz: account({ id: 'zz', status: 'paused' }),
    });
    const decisions = new BatchDecisions();
    const ready = await resolveAccounts(
      repo,
      recordingStep(),
      [
        context({ id: 'gone', senderAccountId: 'deleted' }),
        context({ id: 'dis', senderAccountId: 'off' }),
        context({ id: 'zzz', senderAccountId: 'zz' }),
      ],
      NOW,
      decisions,
    );
    expect(ready).toEqual([]);
    expect(decisions.failedUnclaimed).toEqual([
      {
        tenantId: 't1',
        id: 'gone',
        error: 'sender account deleted does not exist (deleted): the campaign needs another account',
        permanent: true,
      },
      {
        tenantId: 't1',
        id: 'dis',
        error: 'sender account off is disabled: enable it to send through it',
        permanent: true,
      },
    ]);
    expect(decisions.outcomes.get('zzz')).toEqual({
      kind: 'delay',
      until: NOW + PAUSED_RECHECK_MS,
      reason: 'sender account paused',
    });
  });

  it('holds a dead attempt’s delivery as unknown on an at-most-once account, and resends it on an at-least-once one', async () => {
    const { repo } = accounts({
      once: account({ id: 'once', deliveryGuarantee: 'at_most_once' }),
      again: account({ id: 'again', deliveryGuarantee: 'at_least_once' }),
    });
    const decisions = new BatchDecisions();
    const expired = { status: 'sending' as const, leaseUntil: new Date(NOW - 1) };
    const ready = await resolveAccounts(
      repo,
      recordingStep(),
      [
        context({ id: 'held', senderAccountId: 'once', ...expired }),
        context({ id: 'resent', senderAccountId: 'again', ...expired }),
        // No account any more: the channel's default decides (SMTP takes no repeat).
        context({ id: 'smtp', senderAccountId: 'deleted', channel: 'smtp', ...expired }),
      ],
      NOW,
      decisions,
    );
    expect(ready.map((r) => r.ctx.id)).toEqual(['resent']);
    expect(decisions.unknown.map((u) => [u.id, u.reason])).toEqual([
      ['held', UNKNOWN_REASON],
      ['smtp', UNKNOWN_REASON],
    ]);
    expect(decisions.outcomes.get('held')).toEqual({ kind: 'unknown', reason: UNKNOWN_REASON });
  });

  it('lets a refused lookup go through its step (retried there), not fail the delivery', async () => {
    const steps: string[] = [];
    const refused = new Error('Connection terminated unexpectedly');
    const decisions = new BatchDecisions();
    await expect(
      resolveAccounts(
        { forSending: () => Promise.reject(refused) },
        recordingStep(steps),
        [context({ id: 'd1' })],
        NOW,
        decisions,
      ),
    ).rejects.toBe(refused);
    expect(steps).toEqual(['account lookup']);
    expect(decisions.failedUnclaimed).toEqual([]);
  });
});
