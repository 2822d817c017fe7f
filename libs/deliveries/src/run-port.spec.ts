import { RunPort, type RunOwner } from './run-port';

function owner(completed: string[] = []): RunOwner & { settled: string[][] } {
  const settled: string[][] = [];
  return {
    settled,
    fanoutStarted: () => Promise.resolve(undefined),
    fanoutProgressed: () => Promise.resolve(true),
    deliveriesSettled: (runs) => {
      settled.push(runs.map((r) => r.id));
      return Promise.resolve(completed);
    },
  };
}

describe('RunPort', () => {
  const run = {
    tenantId: '0190f0a0-0000-7000-8000-000000000001',
    id: '0190f0a0-0000-7000-8000-0000000000r1',
  };

  it('hands settled runs to the registered owner and returns the ones it completed', async () => {
    const port = new RunPort();
    const campaigns = owner([run.id]);
    port.register(campaigns);
    await expect(port.deliveriesSettled([run])).resolves.toEqual([run.id]);
    expect(campaigns.settled).toEqual([[run.id]]);
  });

  it('asks no one when no run moved', async () => {
    const port = new RunPort();
    const campaigns = owner();
    port.register(campaigns);
    await expect(port.deliveriesSettled([])).resolves.toEqual([]);
    expect(campaigns.settled).toEqual([]);
  });

  it('fails loudly when no owner registered: a run would never complete otherwise', async () => {
    const port = new RunPort();
    await expect(port.deliveriesSettled([run])).rejects.toThrow('no owner of runs is registered');
    await expect(port.fanoutStarted(run.tenantId, run.id)).rejects.toThrow('no owner of runs is registered');
  });

  it('takes one owner', () => {
    const port = new RunPort();
    const first = owner();
    port.register(first);
    port.register(first);
    expect(() => port.register(owner())).toThrow('runs already have an owner');
  });
});
