import { loadBatch } from './load';
import { context, recordingStep } from './testing-fakes';

describe('load stage', () => {
  it('loads a batch in one step, each delivery once however many jobs name it', async () => {
    const asked: string[][] = [];
    const steps: string[] = [];
    const loaded = await loadBatch(
      {
        load: (refs) => {
          asked.push(refs.map((r) => `${r.tenantId}/${r.id}`));
          return Promise.resolve(refs.map((r) => context({ id: r.id, tenantId: r.tenantId })));
        },
      },
      recordingStep(steps),
      [
        { tenantId: 't1', deliveryId: 'd1' },
        { tenantId: 't1', deliveryId: 'd2' },
        { tenantId: 't1', deliveryId: 'd1' },
        { tenantId: 't2', deliveryId: 'd1' },
      ],
    );
    expect(asked).toEqual([['t1/d1', 't1/d2', 't2/d1']]);
    expect(steps).toEqual(['load']);
    expect(loaded.map((c) => c.id)).toEqual(['d1', 'd2', 'd1']);
  });
});
