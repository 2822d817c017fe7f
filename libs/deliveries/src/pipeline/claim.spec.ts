import { ClaimStage } from './claim';
import type { Step } from './types';

const refused = () => Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });

describe('claim stage', () => {
  it('claims the sends starting at one moment in one statement, one token, each with its attempt', async () => {
    const statements: { ids: string[]; token: string; resend: boolean[] }[] = [];
    const stage = new ClaimStage(
      {
        claim: (refs, leaseMs, token) => {
          expect(leaseMs).toBe(60_000);
          statements.push({ ids: refs.map((r) => r.id), token, resend: refs.map((r) => r.resendExpired) });
          return Promise.resolve(
            new Map([
              ['d1', 1],
              ['d3', 2],
            ]),
          );
        },
      },
      60_000,
      (_name, work) => work(),
    );
    const [a, b, c] = await Promise.all([
      stage.claim({ tenantId: 't1', id: 'd1' }, false),
      stage.claim({ tenantId: 't1', id: 'd2' }, false),
      stage.claim({ tenantId: 't1', id: 'd3' }, true),
    ]);
    expect(statements).toHaveLength(1);
    expect(statements[0]?.ids).toEqual(['d1', 'd2', 'd3']);
    expect(statements[0]?.resend).toEqual([false, false, true]);
    expect(a).toEqual({ attempt: 1, token: statements[0]?.token });
    expect(b).toBeUndefined(); // another attempt holds it
    expect(c).toEqual({ attempt: 2, token: statements[0]?.token });
  });

  it('repeats a refused claim with the same token, and never gives it up', async () => {
    const tokens: string[] = [];
    const options: unknown[] = [];
    let refusals = 2;
    // The pipeline's step retries while the call is refused; this one does the same, without waits.
    const step: Step = async (_name, work, opts) => {
      options.push(opts);
      for (;;) {
        try {
          return await work();
        } catch {
          continue;
        }
      }
    };
    const stage = new ClaimStage(
      {
        claim: (_refs, _lease, token) => {
          tokens.push(token);
          if (refusals-- > 0) return Promise.reject(refused());
          return Promise.resolve(new Map([['d1', 1]]));
        },
      },
      1000,
      step,
    );
    const claim = await stage.claim({ tenantId: 't1', id: 'd1' }, false);
    expect(claim).toEqual({ attempt: 1, token: tokens[0] });
    expect(new Set(tokens).size).toBe(1);
    expect(tokens).toHaveLength(3);
    expect(options).toEqual([{ untilDone: true }]);
  });
});
