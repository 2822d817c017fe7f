import { BatchDecisions } from './decisions';
import { account, context } from './testing-fakes';
import { insideSendWindow } from './window';

describe('window stage', () => {
  // Monday 2 March 2026, 20:00 in Paris (19:00 UTC).
  const EVENING = Date.parse('2026-03-02T19:00:00Z');

  it('passes deliveries without a window or inside it, and defers the others to the next opening', () => {
    const decisions = new BatchDecisions();
    const office = { start: '09:00', end: '17:00' };
    const base = context({ id: 'x' });
    const passing = insideSendWindow(
      [
        { ctx: context({ id: 'free' }), account: account() },
        {
          ctx: context({ id: 'late', campaign: { ...base.campaign, sendWindow: office } }),
          account: account(),
        },
        {
          ctx: context({
            id: 'ny',
            campaign: { ...base.campaign, sendWindow: { ...office, timeZone: 'America/New_York' } },
          }),
          account: account(),
        },
      ],
      EVENING,
      decisions,
    );
    expect(passing.map((r) => r.ctx.id)).toEqual(['free', 'ny']);
    // Tuesday 09:00 in Paris.
    const opening = Date.parse('2026-03-03T08:00:00Z');
    expect(decisions.deferred).toEqual([
      { tenantId: 't1', id: 'late', dueAt: new Date(opening), reason: 'outside the send window' },
    ]);
    expect(decisions.outcomes.get('late')).toEqual({
      kind: 'delay',
      until: opening,
      reason: 'send window closed',
    });
  });
});
