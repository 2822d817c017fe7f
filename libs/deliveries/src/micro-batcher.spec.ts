import { MicroBatcher } from './micro-batcher';

/** A flush the test answers by hand, recording what each call received and how many overlapped. */
function manualFlush() {
  const calls: { items: number[]; answer: (error?: Error) => void }[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const flush = (items: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      calls.push({
        items,
        answer: (error) => {
          running -= 1;
          if (error) reject(error);
          else resolve(items.map((i) => `r${i}`));
        },
      });
    });
  return { flush, calls, mostAtOnce: () => mostAtOnce };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('MicroBatcher', () => {
  it('hands what concurrent callers submit in one turn to one flush, each caller its own result', async () => {
    const f = manualFlush();
    const batcher = new MicroBatcher(f.flush);
    const results = [1, 2, 3].map((i) => batcher.submit(i));
    await nextTurn();
    expect(f.calls.map((c) => c.items)).toEqual([[1, 2, 3]]);
    f.calls[0]!.answer();
    await expect(Promise.all(results)).resolves.toEqual(['r1', 'r2', 'r3']);
  });

  it('flushes at once when maxSize are waiting, without waiting for the linger', () => {
    const f = manualFlush();
    const batcher = new MicroBatcher(f.flush, 2, 20);
    void batcher.submit(1);
    expect(f.calls).toHaveLength(0);
    void batcher.submit(2);
    expect(f.calls.map((c) => c.items)).toEqual([[1, 2]]);
  });

  it('without a bound, starts a flush per turn even while earlier ones run', async () => {
    const f = manualFlush();
    const batcher = new MicroBatcher(f.flush);
    void batcher.submit(1);
    await nextTurn();
    void batcher.submit(2);
    await nextTurn();
    expect(f.calls.map((c) => c.items)).toEqual([[1], [2]]);
    expect(f.mostAtOnce()).toBe(2);
  });

  it('with maxConcurrent 1, gathers what arrives during a flush into the next, started when it returns', async () => {
    const f = manualFlush();
    const batcher = new MicroBatcher(f.flush, 500, 0, 1);
    const first = batcher.submit(1);
    await nextTurn();
    const waiting = [2, 3, 4].map((i) => batcher.submit(i));
    await nextTurn();
    expect(f.calls.map((c) => c.items)).toEqual([[1]]);
    f.calls[0]!.answer();
    await expect(first).resolves.toBe('r1');
    expect(f.calls.map((c) => c.items)).toEqual([[1], [2, 3, 4]]);
    f.calls[1]!.answer();
    await expect(Promise.all(waiting)).resolves.toEqual(['r2', 'r3', 'r4']);
    expect(f.mostAtOnce()).toBe(1);
  });

  it('with maxConcurrent 1, splits a backlog larger than maxSize over successive flushes', async () => {
    const f = manualFlush();
    const batcher = new MicroBatcher(f.flush, 2, 0, 1);
    const all = [1, 2, 3, 4, 5].map((i) => batcher.submit(i));
    expect(f.calls.map((c) => c.items)).toEqual([[1, 2]]);
    for (let i = 0; i < 2; i += 1) {
      f.calls[i]!.answer();
      await eventuallyCalls(f.calls, i + 2);
    }
    f.calls[2]!.answer();
    expect(f.calls.map((c) => c.items)).toEqual([[1, 2], [3, 4], [5]]);
    await expect(Promise.all(all)).resolves.toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(f.mostAtOnce()).toBe(1);
  });

  it('rejects every caller of a failed flush and goes on with the next batch', async () => {
    const f = manualFlush();
    const batcher = new MicroBatcher(f.flush, 500, 0, 1);
    const failed = batcher.submit(1);
    await nextTurn();
    const later = batcher.submit(2);
    f.calls[0]!.answer(new Error('connection refused'));
    await expect(failed).rejects.toThrow('connection refused');
    await eventuallyCalls(f.calls, 2);
    f.calls[1]!.answer();
    await expect(later).resolves.toBe('r2');
  });

  it('rejects the whole batch when the flush answers for a different number of items', async () => {
    const batcher = new MicroBatcher<number, string>(() => Promise.resolve(['only one']));
    await expect(Promise.all([batcher.submit(1), batcher.submit(2)])).rejects.toThrow(
      'batch flush returned 1 results for 2 items',
    );
  });
});

/** Lets settled promises run their callbacks until `count` flushes have started (the flush's own chain). */
async function eventuallyCalls(calls: readonly unknown[], count: number): Promise<void> {
  for (let turn = 0; turn < 10 && calls.length < count; turn += 1) await nextTurn();
  expect(calls).toHaveLength(count);
}
