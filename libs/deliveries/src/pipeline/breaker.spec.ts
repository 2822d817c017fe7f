import type { AcquireResult, CircuitKey } from '@herald/resilience';
import { BreakerStage, PROBE_WAIT_MS } from './breaker';
import { BatchDecisions } from './decisions';
import { ready } from './testing-fakes';

const NOW = 1_000_000;

function breaker(gate: AcquireResult) {
  const calls: string[] = [];
  return {
    calls,
    fake: {
      acquire: () => Promise.resolve(gate),
      recordSuccess: (key: CircuitKey) => {
        calls.push(`success ${key.channel}:${key.account}`);
        return Promise.resolve();
      },
      recordFailure: (key: CircuitKey) => {
        calls.push(`failure ${key.channel}:${key.account}`);
        return Promise.resolve({ state: 'closed' as const });
      },
    },
  };
}

const group = (n: number) => Array.from({ length: n }, (_, i) => ready(`d${i}`));
const key = { channel: 'webhook', account: 'a1' };

describe('breaker stage', () => {
  it('holds the whole group while the circuit is open', async () => {
    const stage = new BreakerStage(breaker({ allowed: false, retryAt: NOW + 30_000 }).fake, () => undefined);
    const decisions = new BatchDecisions();
    expect(await stage.gate(group(2), NOW, decisions)).toEqual([]);
    expect(decisions.outcomes.get('d1')).toEqual({
      kind: 'delay',
      until: NOW + 30_000,
      reason: 'circuit open',
    });
  });

  it('lets one probe through a half-open circuit; the others wait for its verdict', async () => {
    const stage = new BreakerStage(breaker({ allowed: true, probe: true }).fake, () => undefined);
    const decisions = new BatchDecisions();
    const passing = await stage.gate(group(3), NOW, decisions);
    expect(passing.map((r) => r.ctx.id)).toEqual(['d0']);
    expect(decisions.outcomes.get('d2')).toEqual({
      kind: 'delay',
      until: NOW + PROBE_WAIT_MS,
      reason: 'circuit half-open',
    });
  });

  it('starts an account at one send per batch, doubles after a clean batch, and falls back to one on a failure', async () => {
    const { fake, calls } = breaker({ allowed: true, probe: false });
    const stage = new BreakerStage(fake, () => undefined);
    const widths: number[] = [];
    const round = async (failures: number) => {
      const decisions = new BatchDecisions();
      const passing = await stage.gate(group(10), NOW, decisions);
      widths.push(passing.length);
      expect(decisions.outcomes.get('d9')).toEqual({ kind: 'again' });
      await stage.record({ key, failures, successes: passing.length - failures });
    };
    await round(0);
    await round(0);
    await round(1);
    await round(0);
    expect(widths).toEqual([1, 2, 4, 1]);
    expect(calls).toEqual([
      'success webhook:a1',
      'success webhook:a1',
      'failure webhook:a1',
      'success webhook:a1',
    ]);
  });

  it('counts a batch’s failures one by one up to three, and only logs when the breaker cannot be told', async () => {
    const { fake, calls } = breaker({ allowed: true, probe: false });
    const warnings: string[] = [];
    await new BreakerStage(fake, (m) => warnings.push(m)).record({ key, failures: 7, successes: 0 });
    expect(calls).toEqual(['failure webhook:a1', 'failure webhook:a1', 'failure webhook:a1']);
    const broken = new BreakerStage(
      { ...fake, recordSuccess: () => Promise.reject(new Error('redis gone')) },
      (m) => warnings.push(m),
    );
    await broken.record({ key, failures: 0, successes: 1 });
    expect(warnings).toEqual(['circuit breaker bookkeeping failed']);
  });
});
