import { groupBy, inLanes } from './send-lanes';

/** A promise and its resolver, to hold work open until the test lets it finish. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('inLanes', () => {
  it('runs at most `lanes` items at once, each lane taking the next in order', async () => {
    const gates = Array.from({ length: 5 }, gate);
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    const done = inLanes([0, 1, 2, 3, 4], 2, async (i) => {
      started.push(i);
      running += 1;
      peak = Math.max(peak, running);
      await gates[i]!.promise;
      running -= 1;
    });
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    gates[1]!.open();
    await new Promise(setImmediate);
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    await done;
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
  });

  it('runs everything at once with infinite lanes, and every item even when one fails', async () => {
    const seen: number[] = [];
    const boom = new Error('boom');
    await expect(
      inLanes([1, 2, 3], Number.POSITIVE_INFINITY, (i) => {
        seen.push(i);
        return i === 1 ? Promise.reject(boom) : Promise.resolve();
      }),
    ).rejects.toBe(boom);
    expect(seen).toEqual([1, 2, 3]);
  });
});

describe('groupBy', () => {
  it('keeps first-seen order of groups and items', () => {
    expect([...groupBy(['b1', 'a1', 'b2'], (s) => s[0]!).entries()]).toEqual([
      ['b', ['b1', 'b2']],
      ['a', ['a1']],
    ]);
  });
});
