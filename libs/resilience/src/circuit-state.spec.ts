import {
  acquireStep,
  CLOSED,
  DEFAULT_CIRCUIT_SETTINGS as S,
  failureStep,
  successStep,
} from './circuit-state';

describe('circuit state machine (the local fallback)', () => {
  it('opens after 3 failures, probes once, doubles on a failed probe, closes on success', () => {
    let r = CLOSED;
    r = failureStep(failureStep(r, 0, S), 0, S);
    expect(r.state).toBe('closed');
    r = failureStep(r, 0, S);
    expect(r).toMatchObject({ state: 'open', openUntil: 1000, periodMs: 1000 });
    expect(acquireStep(r, 999, S).result).toEqual({ allowed: false, retryAt: 1000 });
    const probe = acquireStep(r, 1000, S);
    expect(probe.result).toEqual({ allowed: true, probe: true });
    expect(acquireStep(probe.next, 1001, S).result).toEqual({ allowed: false, retryAt: 31_000 });
    r = failureStep(probe.next, 1000, S);
    expect(r).toMatchObject({ state: 'open', openUntil: 3000, periodMs: 2000 });
    r = successStep(acquireStep(r, 3000, S).next);
    expect(r).toEqual(CLOSED);
  });

  it('ignores late outcomes while open', () => {
    const open = failureStep(failureStep(failureStep(CLOSED, 0, S), 0, S), 0, S);
    expect(successStep(open)).toBe(open);
    expect(failureStep(open, 10, S)).toBe(open);
  });
});
