import { MessageRenderer } from '../render/message-renderer';
import { BatchDecisions } from './decisions';
import { renderBatch } from './render';
import { context, ready, reservation } from './testing-fakes';

const renderer = new MessageRenderer();

describe('render stage', () => {
  it('renders the delivery’s step with the contact’s variables, through the one renderer', () => {
    const decisions = new BatchDecisions();
    const [rendered] = renderBatch([ready('d1', { ctx: context({ id: 'd1' }) })], decisions, renderer);
    expect(rendered?.message).toMatchObject({
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
    const missing = context({ id: 'nostep', step: 3 });
    const decisions = new BatchDecisions();
    const renderable = renderBatch(
      [
        ready('ok', { reservation: reservation('ok') }),
        ready('bad', {
          ctx: { ...broken, campaign: { ...broken.campaign, content: { body: 'Hi {{ nickname }}' } } },
          reservation: reservation('bad'),
        }),
        ready('nostep', {
          ctx: { ...missing, campaign: { ...missing.campaign, content: null } },
          reservation: reservation('nostep'),
        }),
      ],
      decisions,
      renderer,
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
    const content = { body: null } as unknown as typeof odd.campaign.content; // a row the ledger should never return
    expect(() =>
      renderBatch(
        [ready('odd', { ctx: { ...odd, campaign: { ...odd.campaign, content } } })],
        decisions,
        renderer,
      ),
    ).toThrow(TypeError);
    expect(decisions.failedUnclaimed).toEqual([]);
  });

  it('renders a step with variants from the contact’s variant, or the promoted one, and says which', () => {
    const base = context({ id: 'ab' });
    const content = {
      subject: 'Base',
      body: 'Hello {{ first_name }}',
      variants: [
        { name: 'A', weight: 1, subject: 'Subject A' },
        { name: 'B', weight: 1, subject: 'Subject B', body: 'Hi {{ first_name }}' },
      ],
    };
    const ctx = { ...base, campaign: { ...base.campaign, content } };
    const [picked] = renderBatch([ready('ab', { ctx })], new BatchDecisions(), renderer);
    expect(['A', 'B']).toContain(picked?.variant);
    expect(picked?.message?.subject).toBe(`Subject ${picked?.variant}`);
    const other = picked?.variant === 'A' ? 'B' : 'A';
    const [promoted] = renderBatch(
      [ready('ab', { ctx: { ...ctx, campaign: { ...ctx.campaign, promotedVariant: other } } })],
      new BatchDecisions(),
      renderer,
    );
    expect(promoted).toMatchObject({ variant: other, message: { subject: `Subject ${other}` } });
    const [plain] = renderBatch(
      [ready('d1', { ctx: context({ id: 'd1' }) })],
      new BatchDecisions(),
      renderer,
    );
    expect(plain?.variant).toBeUndefined();
  });
});
