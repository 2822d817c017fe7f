import { BatchDecisions } from './decisions';
import { PAUSED_RECHECK_MS, precheck, precheckBatch } from './precheck';
import { context } from './testing-fakes';

const NOW = Date.parse('2026-03-02T10:00:00Z');

describe('precheck stage', () => {
  it.each([
    ['a sent delivery', { status: 'sent' as const }, { kind: 'noop', reason: 'already sent' }],
    ['an unknown delivery', { status: 'unknown' as const }, { kind: 'noop', reason: 'already unknown' }],
    ['a cancelled run', { runStatus: 'cancelled' }, { kind: 'cancel', reason: 'run cancelled' }],
    [
      'a delivery leased by a live attempt',
      { status: 'sending' as const, leaseUntil: new Date(NOW + 5000) },
      { kind: 'delay', until: NOW + 5000, reason: 'attempt in progress' },
    ],
    ['a suppressed contact', { suppressed: true }, { kind: 'skipped', reason: 'suppressed' }],
    [
      'a sending delivery whose lease ran out',
      { status: 'sending' as const, leaseUntil: new Date(NOW - 1) },
      { kind: 'go' },
    ],
    ['a pending delivery', {}, { kind: 'go' }],
  ])('%s', (_what, overrides, verdict) => {
    expect(precheck(context({ id: 'd1', ...overrides }), NOW)).toEqual(verdict);
  });

  it('skips an unsubscribed contact and waits out a paused campaign', () => {
    const base = context({ id: 'd1' });
    expect(precheck({ ...base, contact: { ...base.contact, status: 'unsubscribed' } }, NOW)).toEqual({
      kind: 'skipped',
      reason: 'contact is unsubscribed',
    });
    expect(precheck({ ...base, campaign: { ...base.campaign, status: 'archived' } }, NOW).kind).toBe(
      'cancel',
    );
    expect(precheck({ ...base, campaign: { ...base.campaign, status: 'paused' } }, NOW)).toEqual({
      kind: 'delay',
      until: NOW + PAUSED_RECHECK_MS,
      reason: 'campaign paused',
    });
  });

  it('passes on the deliveries that go on and writes down the others', () => {
    const decisions = new BatchDecisions();
    const go = precheckBatch(
      [
        context({ id: 'go' }),
        context({ id: 'sup', suppressed: true }),
        context({ id: 'cxl', runStatus: 'cancelled' }),
        context({ id: 'done', status: 'sent' }),
      ],
      NOW,
      decisions,
    );
    expect(go.map((c) => c.id)).toEqual(['go']);
    expect(decisions.skipped).toEqual([{ tenantId: 't1', id: 'sup', reason: 'suppressed' }]);
    expect(decisions.cancelled).toEqual([{ tenantId: 't1', id: 'cxl', reason: 'run cancelled' }]);
    expect(decisions.outcomes.get('cxl')).toEqual({ kind: 'noop', reason: 'run cancelled' });
    expect(decisions.outcomes.get('done')).toEqual({ kind: 'noop', reason: 'already sent' });
    expect(decisions.outcomes.has('go')).toBe(false);
  });
});
