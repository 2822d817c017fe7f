import { BatchDecisions } from './decisions';
import { render, renderBatch } from './render';
import { context, ready, reservation } from './testing-fakes';

describe('render stage', () => {
  it('renders the campaign step with the contact’s variables', () => {
    const message = render(context({ id: 'd1' }));
    expect(message).toMatchObject({
      deliveryId: 'd1',
      campaignId: 'g1',
      runId: 'r1',
      subject: 'Hi',
      body: 'Hello Ada',
      contact: { id: 'c-d1', email: 'd1@example.test', firstName: 'Ada' },
    });
  });

  it('fails a delivery whose template does not render, before any claim, and refunds its unit', () => {
    const broken = context({ id: 'bad' });
    const decisions = new BatchDecisions();
    const renderable = renderBatch(
      [
        ready('ok', { reservation: reservation('ok') }),
        ready('bad', {
          ctx: { ...broken, campaign: { ...broken.campaign, steps: [{ body: 'Hi {{ nickname }}' }] } },
          reservation: reservation('bad'),
        }),
        ready('nostep', { ctx: context({ id: 'nostep', step: 3 }), reservation: reservation('nostep') }),
      ],
      decisions,
    );
    expect(renderable.map((r) => [r.ctx.id, r.message?.body])).toEqual([['ok', 'Hello Ada']]);
    expect(decisions.failedUnclaimed.map((f) => [f.id, f.permanent])).toEqual([
      ['bad', true],
      ['nostep', true],
    ]);
    expect(decisions.failedUnclaimed[1]?.error).toBe('campaign has no step 3');
    expect(decisions.refunds.map((r) => r.id)).toEqual(['bad:r', 'nostep:r']);
  });

  it('throws what is not a template error (a bug), failing no delivery', () => {
    const odd = context({ id: 'odd' });
    const decisions = new BatchDecisions();
    const steps = null as unknown as typeof odd.campaign.steps; // a row the ledger should never return
    expect(() =>
      renderBatch([ready('odd', { ctx: { ...odd, campaign: { ...odd.campaign, steps } } })], decisions),
    ).toThrow(TypeError);
    expect(decisions.failedUnclaimed).toEqual([]);
  });
});
