/**
 * Gathers items submitted by concurrent callers and hands them to `flush` together: at once
 * when `maxSize` are waiting, otherwise `lingerMs` after the first one arrived (0: the next turn
 * of the event loop). One round trip then serves a whole batch of jobs instead of one each.
 * Each caller gets its own result.
 */
export class MicroBatcher<I, O> {
  private pending: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly maxSize = 500,
    private readonly lingerMs = 0,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxSize) this.drain();
      else if (!this.scheduled) {
        this.scheduled = true;
        if (this.lingerMs > 0) setTimeout(() => this.drain(), this.lingerMs);
        else setImmediate(() => this.drain());
      }
    });
  }

  private drain(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.flush(batch.map((p) => p.item)).then(
      (results) => {
        if (results.length !== batch.length) {
          const error = new Error(`batch flush returned ${results.length} results for ${batch.length} items`);
          for (const p of batch) p.reject(error);
          return;
        }
        batch.forEach((p, i) => p.resolve(results[i] as O));
      },
      (error: unknown) => {
        for (const p of batch) p.reject(error);
      },
    );
  }
}
